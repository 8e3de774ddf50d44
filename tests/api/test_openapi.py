"""The OpenAPI schema is complete enough for a generated client to drive the whole story."""

from __future__ import annotations

from typing import Any

import pytest

from api.app import create_app


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return create_app().openapi()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if path.startswith("/api/v1")
    ]


BODYLESS_ACTIONS = (
    "/api/v1/auth/logout",
    "/api/v1/lessons/{lesson_id}/retry",
    "/api/v1/batches/{batch_id}/retry",
    "/api/v1/admin/users/{user_id}/erase",
    "/api/v1/notifications/read-all",
)
"""POSTs that are an action on what the path names, with nothing to send."""


def test_every_operation_documents_success_and_errors(schema: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(schema)]
    assert len(ids) == len(set(ids))
    for method, path, op in operations(schema):
        responses = op["responses"]
        success = [code for code in responses if code.startswith(("2", "3"))]
        assert success, (method, path)
        if op.get("parameters") or "requestBody" in op:
            assert "422" in responses, (method, path)
        public = path in ("/api/v1/health", "/api/v1/auth/token")
        assert public or "401" in responses, (method, path)
        assert bool(op.get("security")) != public, (method, path)
        for code, response in responses.items():
            if code.startswith("4") or code == "503":
                if code == "416":
                    continue
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorOut"), (method, path, code)
        if method in ("POST", "PATCH") and path not in BODYLESS_ACTIONS:
            assert "requestBody" in op, (method, path)


def test_json_bodies_have_schemas_with_examples(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for name in (
        "UploadCreate",
        "ClipCreate",
        "ClipUpdate",
        "CommentCreate",
        "ShareCreate",
        "TagCreate",
        "UserCreate",
        "PairingCreate",
        "LessonPublic",
        "TokenOut",
    ):
        assert components[name].get("examples"), name
    for method, path, op in operations(schema):
        for code, response in op["responses"].items():
            if code.startswith("2") and "application/json" in response.get("content", {}):
                assert response["content"]["application/json"]["schema"], (method, path)


def test_the_story_is_drivable_from_the_schema(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    token = paths["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in token
    patch = paths["/api/v1/uploads/{upload_id}"]["patch"]
    assert {p["name"] for p in patch["parameters"]} >= {"upload_id", "Upload-Offset"}
    assert "application/offset+octet-stream" in patch["requestBody"]["content"]
    assert "head" in paths["/api/v1/uploads/{upload_id}"]
    lessons = paths["/api/v1/lessons"]["post"]["requestBody"]["content"]
    assert set(lessons) == {"application/json", "multipart/form-data"}
    assert "upload_id" in lessons["application/json"]["schema"]["properties"]
    transcript = paths["/api/v1/lessons/{lesson_id}/transcript"]["get"]
    assert set(transcript["responses"]["200"]["content"]) >= {"application/json", "text/vtt"}
    media = paths["/api/v1/clips/{clip_id}/media"]["get"]["responses"]
    assert {"200", "206", "307", "503"} <= set(media)
    flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"
    for path in (
        "/api/v1/clips",
        "/api/v1/clips/{clip_id}/tags",
        "/api/v1/clips/{clip_id}/comments",
        "/api/v1/clips/{clip_id}/shares",
        "/api/v1/feed",
        "/api/v1/frameworks/{framework_id}/strands",
    ):
        assert path in paths, path


def test_answers_the_hardening_changed_are_documented(schema: dict[str, Any]) -> None:
    """Issue 21: the 413, 507, 429, 401 and 422 answers clients now see are in the schema, with
    the stable codes their bodies carry."""
    from api.middleware import BODY_TOO_LARGE
    from api.ratelimit import Limited
    from api.routes.uploads import QUOTA_IN_FLIGHT, QUOTA_OPEN, QUOTA_STORAGE

    codes = schema["components"]["schemas"]["ErrorOut"]["properties"]["code"]["description"]
    for code in (BODY_TOO_LARGE, QUOTA_STORAGE, QUOTA_OPEN, QUOTA_IN_FLIGHT, *Limited):
        assert code in codes, code
    for method, path, op in operations(schema):
        responses = op["responses"]
        if path == "/api/v1/health":
            continue
        assert "body_too_large" in responses["413"]["description"], (method, path)
        invalid = responses["422"]["description"]
        assert "NaN" in invalid and "offset" in invalid, (method, path)
        if op.get("security"):
            assert "session ended" in responses["401"]["description"], (method, path)
        for code in ("429", "503"):
            if code in responses:
                assert "Retry-After" in responses[code]["headers"], (method, path, code)
    sign_in = schema["paths"]["/api/v1/auth/token"]["post"]["responses"]["429"]["description"]
    assert all(limit.value in sign_in for limit in Limited), sign_in
    for method, path in (("patch", "/api/v1/uploads/{upload_id}"), ("post", "/api/v1/lessons")):
        full = schema["paths"][path][method]["responses"]["507"]["description"]
        assert "no room" in full and "nothing of it was kept" in full, (method, path)
