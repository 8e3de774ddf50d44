"""The API latency peer: bare Starlette on the same uvicorn, serving fixed JSON from memory.

It answers the same two paths with the very bytes our API returned, with no sign-in, database
or middleware, so the difference between the two is what clipcoach's own request handling costs.
`CLIPCOACH_PEER_PAYLOADS` names a JSON file {"list": ..., "detail": ...}.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_payloads = json.loads(Path(os.environ["CLIPCOACH_PEER_PAYLOADS"]).read_text())
_list = json.dumps(_payloads["list"]).encode()
_detail = json.dumps(_payloads["detail"]).encode()


async def lessons(_: Request) -> Response:
    return Response(_list, media_type="application/json")


async def lesson(_: Request) -> Response:
    return Response(_detail, media_type="application/json")


app = Starlette(
    routes=[
        Route("/api/v1/lessons", lessons),
        Route("/api/v1/lessons/{lesson_id}", lesson),
    ]
)
