"""Schemathesis against the app's own OpenAPI schema, signed in as every role, in a seeded world.

Each operation gets hypothesis-generated requests (bounded by FUZZ_EXAMPLES, or
CLIPCOACH_FUZZ_EXAMPLES for a bigger run); every example is sent once per role, half of the time
with the path's ids swapped for real objects of the world (lessons, clips, uploads, shares,
comments, pairings) so the fuzzing reaches real rows, not only 404s. Checks: no 5xx, a documented
status code, the documented content type and headers, and a body matching the response schema.

    .venv/bin/pytest tests/hardening/test_fuzz.py                       # default, ~1-2 min
    .venv/bin/pytest tests/hardening/test_fuzz.py -m slow    # 100 random examples each
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hsettings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from models.queue import InProcessQueue
from tests.api.conftest import World

ROLES = ("admin", "mentor", "ect_a", "coach", "anonymous")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ_EXAMPLES = int(os.environ.get("CLIPCOACH_FUZZ_EXAMPLES", "12"))
LONG_EXAMPLES = int(os.environ.get("CLIPCOACH_FUZZ_LONG_EXAMPLES", "100"))
SENT: dict[str, int] = {"requests": 0}
"""Requests sent in this process, for docs/reliability.md (reported when the module is done)."""


@pytest.fixture(scope="module", autouse=True)
def _report_requests_sent(request: pytest.FixtureRequest) -> Iterator[None]:
    """Report the count however the module's tests are ordered or selected (it used to be a test
    that had to run last, and failed when run alone)."""
    yield
    if SENT["requests"]:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"schemathesis: {SENT['requests']} requests sent")


@pytest.fixture
def fuzz_world(world: World, inline_queue: InProcessQueue) -> World:
    return world


def _schema_app() -> Any:
    """Any instance of the app gives the same schema; requests go to each test's own app.
    (schemathesis's lazy `from_fixture` does not work with pytest 9: it sets `node._nodeid`.)"""
    from api.app import create_app

    return create_app()


schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
schema = schemathesis.openapi.from_asgi("/openapi.json", _schema_app())
_toggle = itertools.count()


def real_ids(world: World) -> dict[str, str]:
    return {
        "lesson_id": world.ids["lesson_a"],
        "clip_id": world.ids["clip_shared"],
        "upload_id": world.ids["upload_a"],
        "share_id": world.ids["share_clip_shared"],
        "comment_id": world.ids["comment_clip_shared"],
        "user_id": world.users["ect_a"],
        "pairing_id": world.ids["pairing"],
        "framework_id": "ecf-2019",
    }


def run_case(case: Any, world: World) -> None:
    case.operation.schema.app = world.app  # this test's world, not the app the schema came from
    if case.path_parameters and next(_toggle) % 2 == 0:
        ids = real_ids(world)
        for name in list(case.path_parameters):
            if name in ids:
                case.path_parameters[name] = ids[name]
    for role in ROLES:
        headers = dict(case.headers or {})
        headers.pop("Authorization", None)
        headers.update(world.auth(role))
        SENT["requests"] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)


@schema.parametrize()
@hsettings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,  # the default run sends the same requests every time
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_fuzz(case: Any, fuzz_world: World) -> None:
    run_case(case, fuzz_world)


@pytest.mark.slow
@schema.parametrize()
@hsettings(
    max_examples=LONG_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_fuzz_long(case: Any, fuzz_world: World) -> None:
    """The bigger, randomised run (`make test-slow`)."""
    run_case(case, fuzz_world)
