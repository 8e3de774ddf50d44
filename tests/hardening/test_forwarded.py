"""X-Forwarded-For is trusted only from configured proxies (none by default), so invented
addresses neither dodge the sign-in limit nor reach the audit log (issue 21, point 7, first
half; the per-account limit is not done yet)."""

from __future__ import annotations

import httpx
import uvicorn

from tests.api.conftest import World
from tests.services import uvicorn_thread
from workers.cli import proxy_options


def test_invented_forwarded_addresses_do_not_dodge_the_sign_in_limit(world: World) -> None:
    config = uvicorn.Config(
        world.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
        **proxy_options(world.settings),
    )  # fmt: skip
    with uvicorn_thread(config) as port:
        codes = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for i in range(12):
                r = client.post(
                    "/api/v1/auth/token",
                    data={"username": "ect_b@school.test", "password": f"guess {i}"},
                    headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
                )
                codes.append(r.status_code)
            audit = client.get(
                "/api/v1/admin/audit?action=auth.failed", headers=world.auth("admin")
            ).json()
    assert 429 in codes[:10], codes
    assert audit and {event["client"] for event in audit} == {"127.0.0.1"}
