"""Request bodies read from a plain `def` route, which FastAPI runs in its threadpool.

Routes that touch the database, storage or disk are plain `def` so nothing they do blocks the
event loop; the few that also read a large body pull it from the loop a message at a time with
`anyio.from_thread`, so the disk writes and commits stay in the worker thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio.from_thread
from starlette.datastructures import FormData
from starlette.requests import Request


def iter_body(request: Request) -> Iterator[bytes]:
    """The body as it streams in (raises ClientDisconnect if the client goes away)."""
    stream = request.stream()
    while True:
        try:
            block = anyio.from_thread.run(stream.__anext__)
        except StopAsyncIteration:
            return
        if block:
            yield block


def read_body(request: Request) -> bytes:
    """The whole (small) body; the body limit middleware bounds it."""
    return anyio.from_thread.run(request.body)


def read_form(request: Request, **limits: Any) -> FormData:
    """A multipart form, its files spooled to disk by Starlette; close it when done."""

    async def form() -> FormData:
        return await request.form(**limits)

    return anyio.from_thread.run(form)


def close_form(form: FormData) -> None:
    anyio.from_thread.run(form.close)
