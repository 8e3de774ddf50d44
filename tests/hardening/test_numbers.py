"""Non-finite numbers and unexpected errors: NaN, Infinity and -Infinity in any JSON body are a
422 on every route (never a 500), and every error answer, a 500 included, carries the same
security headers as a 200 (issue 21, point 3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import World

CONSTANTS = ("NaN", "Infinity", "-Infinity")
SECURITY = ("content-security-policy", "x-frame-options", "x-content-type-options")


def json_operations(schema: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(method, path, property names) of every operation that takes a JSON body."""
    found = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            ref = content["application/json"]["schema"].get("$ref", "")
            body = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
            found.append((method, path, sorted(body.get("properties", {})) or ["value"]))
    return found


def fill(path: str, world: World) -> str:
    ids = {
        "{lesson_id}": world.ids["lesson_a"],
        "{clip_id}": world.ids["clip_shared"],
        "{upload_id}": world.ids["upload_a"],
        "{user_id}": world.users["ect_a"],
    }
    for name, value in ids.items():
        path = path.replace(name, value)
    return path


def assert_headed(response: Any) -> None:
    for name in SECURITY:
        assert name in response.headers, (response.status_code, name)


def test_non_finite_numbers_are_422_on_every_json_route(world: World) -> None:
    operations = json_operations(world.client.get("/openapi.json").json())
    assert len(operations) >= 10  # clips, comments, shares, uploads, users, batches, ...
    answers = {}
    for method, path, fields in operations:
        for constant in CONSTANTS:
            # every property at once (numbers, dates, strings alike), then one number inside a list
            body = "{" + ", ".join(f'"{name}": {constant}' for name in fields) + "}"
            for text in (body, f'{{"{fields[0]}": [1, {constant}]}}'):
                r = world.client.request(
                    method.upper(),
                    fill(path, world),
                    content=text,
                    headers={**world.auth("admin"), "Content-Type": "application/json"},
                )
                answers[(method, path, constant, text)] = r.status_code
                assert r.status_code == 422, (method, path, text, r.status_code, r.text)
                assert "finite" in r.json()["detail"]
                assert_headed(r)
    assert len(answers) >= 60


def test_valid_bodies_with_one_non_finite_number(world: World) -> None:
    """The bodies a real client sends, with one number spoiled: still 422, nothing stored."""
    clip, lesson = world.ids["clip_shared"], world.ids["lesson_a"]
    cases = [
        ("POST", "/api/v1/clips", {"lesson_id": lesson, "start": "NaN", "end": 2.0}, "mentor"),
        ("POST", "/api/v1/clips", {"lesson_id": lesson, "start": 1.0, "end": "Infinity"}, "mentor"),
        ("PATCH", f"/api/v1/clips/{clip}", {"end": "-Infinity"}, "mentor"),
        ("POST", f"/api/v1/clips/{clip}/comments", {"at": "Infinity", "body": "x"}, "mentor"),
        ("POST", "/api/v1/uploads", {"filename": "a.mp4", "size": "NaN"}, "ect_a"),
        ("POST", f"/api/v1/clips/{clip}/shares", {"until": "NaN"}, "mentor"),
    ]
    before = world.client.get(f"/api/v1/clips/{clip}/comments", headers=world.auth("mentor"))
    for method, path, body, who in cases:
        text = json.dumps(body).replace('"NaN"', "NaN").replace('"Infinity"', "Infinity")
        text = text.replace('"-Infinity"', "-Infinity")
        r = world.client.request(
            method, path, content=text,
            headers={**world.auth(who), "Content-Type": "application/json"},
        )  # fmt: skip
        assert r.status_code == 422, (path, text, r.text)
        assert_headed(r)
    after = world.client.get(f"/api/v1/clips/{clip}/comments", headers=world.auth("mentor"))
    assert after.json() == before.json()


@pytest.mark.logs_errors
def test_a_crashing_route_answers_500_with_the_security_headers(world: World) -> None:
    app = create_app()

    @app.get("/api/v1/crash")
    def crash() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/api/v1/crash")
        ok = client.get("/api/v1/health")
    assert r.status_code == 500
    assert r.json() == {"detail": "Something went wrong on our side."}
    assert_headed(r)
    for name in SECURITY:
        assert r.headers[name] == ok.headers[name]
