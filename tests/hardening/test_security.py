"""Security checks across the app: tokens, sign-in limits, content sniffing, storage paths, logs,
page headers, and the absence of cookie authentication (so CSRF has nothing to ride on)."""

from __future__ import annotations

import contextlib
import logging
import re
import tempfile
from datetime import timedelta
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from models.account import User
from models.accounts import issue_token
from models.db import session_scope, utcnow
from models.lesson import Lesson
from models.storage import LocalStorage, StorageKeyError, check_key
from tests.api.conftest import PASSWORD, SECRET, Media, World
from tests.mediafactory import write_pdf
from tests.services import uvicorn_thread

KEY_ALPHABET = st.sampled_from([*list("ab./\\_-é\x00\n%~:"), "..", "../", "/..", "%2e%2e"])
keys = st.lists(KEY_ALPHABET, min_size=0, max_size=12).map("".join)


def sign_in(world: World, email: str, password: str):  # type: ignore[no-untyped-def]
    return world.client.post("/api/v1/auth/token", data={"username": email, "password": password})


# -- tokens ------------------------------------------------------------------------------------


def test_tokens_expire_and_revoke(world: World) -> None:
    r = sign_in(world, "mentor@school.test", PASSWORD)
    assert r.status_code == 200
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert world.client.get("/api/v1/lessons", headers=headers).status_code == 200
    assert world.client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    for path in ("/api/v1/lessons", f"/api/v1/lessons/{world.ids['lesson_a']}", "/api/v1/feed"):
        assert world.client.get(path, headers=headers).status_code == 401

    with session_scope(world.settings.database_url) as session:
        user = session.get(User, world.users["mentor"])
        assert user is not None
        ttl = timedelta(minutes=world.settings.token_ttl_minutes)
        stale = issue_token(world.settings, user, now=utcnow() - ttl - timedelta(seconds=5))
        fresh = issue_token(world.settings, user, now=utcnow() - ttl + timedelta(minutes=1))
    r = world.client.get("/api/v1/lessons", headers={"Authorization": f"Bearer {stale.token}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    r = world.client.get("/api/v1/lessons", headers={"Authorization": f"Bearer {fresh.token}"})
    assert r.status_code == 200


def test_sign_in_attempts_are_rate_limited(world: World) -> None:
    codes = [sign_in(world, "ect_b@school.test", f"guess {i}").status_code for i in range(30)]
    assert 401 in codes and codes[-1] == 429, codes
    first_429 = codes.index(429)
    assert first_429 <= 10, f"{first_429} guesses allowed before the limit"
    r = sign_in(world, "ect_b@school.test", PASSWORD)  # even the right password waits
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


# -- content, not extension --------------------------------------------------------------------


def test_uploads_are_judged_by_content(world: World, media: Media, tmp_path: Path) -> None:
    pdf = tmp_path / "x.mp4"
    write_pdf(pdf)
    auth = world.auth("ect_a")
    r = world.client.post(
        "/api/v1/lessons", headers=auth, files={"file": ("lesson.mp4", pdf.read_bytes())}
    )
    assert r.status_code == 415 and "PDF" in r.json()["detail"]
    # a real recording with a misleading name is taken, and stored as what it is
    r = world.client.post(
        "/api/v1/lessons",
        headers=auth,
        files={"file": ("notes.txt", media.clip.read_bytes(), "text/plain")},
    )
    assert r.status_code == 201, r.text
    with session_scope(world.settings.database_url) as session:
        lesson = session.get(Lesson, r.json()["id"])
        assert lesson is not None and lesson.source_key.endswith("/source.mp4")
    # chunked: refused as soon as the first bytes arrive
    body = (b"%PDF-1.4\n" + b"x" * 600) * 2
    r = world.client.post(
        "/api/v1/uploads", headers=auth, json={"filename": "a.mp4", "size": len(body)}
    )
    upload = r.json()["id"]
    r = world.client.patch(
        f"/api/v1/uploads/{upload}",
        headers={**auth, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        content=body[:700],
    )
    assert r.status_code == 415
    assert world.client.get(f"/api/v1/uploads/{upload}", headers=auth).status_code == 404


# -- storage paths -----------------------------------------------------------------------------


def _inside(root: Path, key: str) -> bool:
    return (root / key).resolve().is_relative_to(root.resolve())


@hsettings(max_examples=400, deadline=None)
@given(key=keys)
def test_check_key_never_lets_a_path_out(key: str) -> None:
    try:
        checked = check_key(key)
    except StorageKeyError:
        return
    parts = PurePosixPath(checked).parts
    assert ".." not in parts and not checked.startswith("/") and "\\" not in checked
    assert _inside(Path("/srv/storage"), checked)


@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=keys)
def test_local_storage_writes_only_under_its_root(key: str, tmp_path: Path) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path)) / "root"
    storage = LocalStorage(root)
    refused = (StorageKeyError, IsADirectoryError, NotADirectoryError, FileExistsError)
    with contextlib.suppress(*refused):
        storage.put_bytes(key, b"x")
    outside = [p for p in root.parent.rglob("*") if not p.is_relative_to(root)]
    assert outside == []
    for path in root.rglob("*"):
        assert path.resolve().is_relative_to(root.resolve())
        assert not path.name.startswith(".incoming."), "a half-written object was left"


@pytest.mark.services
def test_s3_storage_refuses_the_same_keys(s3_url: str) -> None:
    """The S3 backend uses the same check: hypothesis keys either fail check_key or land at
    exactly that key (no `..` folding by the server into another place)."""
    from models.storage.s3 import S3Storage

    storage = S3Storage.from_url(s3_url)
    stored: set[str] = set()

    @hsettings(max_examples=40, deadline=None)
    @given(key=keys)
    def check(key: str) -> None:
        try:
            storage.put_bytes(key, b"x")
        except StorageKeyError:
            with pytest.raises(StorageKeyError):
                check_key(key)
            return
        stored.add(key)
        assert storage.get_bytes(key) == b"x"

    check()
    for key in ("../escape", "a/../../b", "/etc/passwd", "a\\..\\b", "a/./b", "a//b"):
        with pytest.raises(StorageKeyError):
            storage.put_bytes(key, b"x")
    assert stored, "hypothesis should have found some safe keys"
    assert all(storage.exists(key) for key in stored)


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.text(min_size=1, max_size=300).filter(lambda s: s.strip() != ""))
def test_upload_filenames_never_reach_the_storage_path(
    name: str, world: World, media: Media
) -> None:
    head = media.clip.read_bytes()[:4096]
    r = world.client.post(
        "/api/v1/lessons", headers=world.auth("ect_a"), files={"file": (name, head, "video/mp4")}
    )
    assert r.status_code in (201, 422), r.text
    if r.status_code == 201:
        with session_scope(world.settings.database_url) as session:
            lesson = session.get(Lesson, r.json()["id"])
            assert lesson is not None
            assert re.fullmatch(r"lessons/[0-9a-f]{32}/source\.mp4", lesson.source_key)
    data = world.settings.data_dir
    strays = [p for p in data.rglob("*") if p.is_file() and not (
        p.is_relative_to(data / "storage") or p.is_relative_to(data / "uploads")
        or p.is_relative_to(data / "broker")
        or p.name.startswith("clipcoach.db") or p.name in ("secret_key",)
    )]  # fmt: skip
    assert strays == []


# -- secrets in logs ---------------------------------------------------------------------------


def test_secrets_and_tokens_never_reach_the_logs(
    world: World,
    media: Media,
    inline_queue,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    caplog.set_level(logging.DEBUG)
    c = world.client
    token = sign_in(world, "ect_a@school.test", PASSWORD).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    sign_in(world, "ect_a@school.test", PASSWORD + "x")  # a near-miss password
    c.get("/api/v1/auth/me", headers=auth)
    r = c.post("/api/v1/lessons", headers=auth, files={"file": ("l.mp4", media.clip.read_bytes())})
    lesson = r.json()["id"]
    inline_queue.join()
    c.get(f"/api/v1/lessons/{lesson}", headers=auth)
    c.get(f"/api/v1/lessons/{world.ids['lesson_a']}/media", headers=auth)
    c.get(f"/api/v1/lessons/{world.ids['lesson_a']}/transcript?format=vtt", headers=auth)
    c.get(f"/api/v1/clips/{world.ids['clip_shared']}/media", headers=auth)
    c.get("/api/v1/lessons", headers={"Authorization": f"Bearer {token}x"})  # a bad token
    c.get("/api/v1/lessons", headers={"Authorization": "Bearer " + SECRET})
    c.post("/api/v1/auth/logout", headers=auth)
    c.get("/api/v1/lessons", headers=auth)  # a revoked token
    text = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    assert caplog.records, "expected the story to log something"
    for secret in (PASSWORD, token, token.split(".")[-1], SECRET):
        assert secret not in text, f"a secret reached the logs: {secret[:6]}…"


# -- headers, framing, cookies -----------------------------------------------------------------

PAGES = [
    "/", "/signin", "/upload", "/admin", "/lessons/{lesson_a}", "/clips/{clip_shared}",
    "/progress/someone", "/progress/someone/summary", "/notifications", "/batches", "/batches/x1",
]  # fmt: skip


def test_pages_send_security_headers(world: World) -> None:
    for template in [*PAGES, "/api/v1/health", "/api/v1/lessons", "/static/nope.js"]:
        path = template.format(**world.ids)
        r = world.client.get(path)
        h = r.headers
        csp = h.get("content-security-policy", "")
        directives = dict(
            ([*part.strip().split(" ", 1), ""])[:2] for part in csp.split(";") if part.strip()
        )
        assert directives.get("default-src") == "'self'", (path, csp)
        assert directives.get("frame-ancestors") == "'none'", (path, csp)
        sources = " ".join(directives.values())
        assert not re.search(r"https?:|\*|'unsafe-inline'|'unsafe-eval'", sources), (path, csp)
        assert h["x-frame-options"] == "DENY"
        assert h["x-content-type-options"] == "nosniff"
        assert "set-cookie" not in h


def test_no_route_authenticates_by_cookie(world: World) -> None:
    """Every route that needs a token refuses the same token sent as a cookie (any usual name),
    and no response sets a cookie: there is no ambient authority, so CSRF does not apply."""
    token = world.tokens["admin"]
    jar = {name: token for name in ("access_token", "token", "session", "Authorization",
                                    "bearer", "clipcoach")}  # fmt: skip
    schema = world.client.get("/openapi.json").json()
    ids = {"lesson_id": world.ids["lesson_a"], "clip_id": world.ids["clip_shared"],
           "upload_id": world.ids["upload_a"], "share_id": world.ids["share_clip_shared"],
           "comment_id": world.ids["comment_clip_shared"], "user_id": world.users["ect_a"],
           "pairing_id": world.ids["pairing"], "framework_id": "ecf-2019"}  # fmt: skip
    checked = 0
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            if method not in ("get", "post", "patch", "delete", "put", "head"):
                continue
            if not op.get("security"):
                continue
            url = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "x" * 32), path)
            world.client.cookies.clear()
            for name, value in jar.items():
                world.client.cookies.set(name, value)
            r = world.client.request(method.upper(), url)
            world.client.cookies.clear()
            assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
            assert "set-cookie" not in r.headers
            checked += 1
    assert checked >= 25, checked
    r = sign_in(world, "admin@school.test", PASSWORD)
    assert r.status_code == 200 and "set-cookie" not in r.headers


def test_signed_media_links_stay_out_of_uvicorn_access_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Media links carry a token in their query (a <video> cannot send headers): the access log
    of a real uvicorn, and an httpx client's request log, must show the request without it."""
    import httpx
    import uvicorn

    caplog.set_level(logging.INFO)
    config = uvicorn.Config(world.app, host="127.0.0.1", port=0, log_level="info", lifespan="off")
    access_logger = logging.getLogger("uvicorn.access")  # configured above; does not propagate
    access_logger.addHandler(caplog.handler)
    try:
        with uvicorn_thread(config) as port:
            base = f"http://127.0.0.1:{port}"
            auth = world.auth("ect_a")
            with httpx.Client(base_url=base, timeout=10) as client:
                links = client.get(
                    f"/api/v1/lessons/{world.ids['lesson_a']}/media-links", headers=auth
                )
                assert links.status_code == 200, links.text
                media_token = links.json()["token"]
                r = client.get(links.json()["media"], headers={"Range": "bytes=0-99"})
                assert r.status_code == 206
                client.get(links.json()["captions"])
                # spellings the server decodes to `token` (issue 21 point 9): accepted, never logged
                media = f"/api/v1/lessons/{world.ids['lesson_a']}/media"
                for name in ("%74oken", "tok%65n"):
                    r = client.get(f"{media}?{name}={media_token}", headers={"Range": "bytes=0-9"})
                    assert r.status_code == 206, (name, r.status_code)
    finally:
        access_logger.removeHandler(caplog.handler)
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/media" in line for line in access), access
    assert sum("%74oken=[redacted]" in line or "tok%65n=[redacted]" in line for line in access) == 2
    text = "\n".join(r.getMessage() for r in caplog.records)
    leaked = [r.name for r in caplog.records if media_token in r.getMessage()]
    assert media_token not in text and world.tokens["ect_a"] not in text, leaked
