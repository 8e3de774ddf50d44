"""Signed media links: players stream lessons and clips through `?token=` URLs that open one
resource for one user for minutes, end with the session, and never outrank models.access.

Also: tokens never reach the logs, and the pages' CSP names the object store only when media is
redirected there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import select, update

from models.account import Pairing
from models.accounts import decode_token, issue_media_token
from models.audit import VIEW_WINDOW, AuditEvent
from models.db import session_scope, utcnow
from tests.api.conftest import World
from tests.services import uvicorn_thread


def links(world: World, who: str, kind: str, key: str) -> dict[str, Any]:
    response = world.client.get(
        f"/api/v1/{kind}/{world.ids[key]}/media-links", headers=world.auth(who)
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    body: dict[str, Any] = response.json()
    return body


def get(world: World, url: str | None, **headers: str) -> Any:
    """A request as a `<video>` or `<img>` makes it: the URL alone, no Authorization header."""
    assert url is not None
    return world.client.get(url, headers=headers)


def token_of(url: str | None) -> str:
    assert url is not None
    return parse_qs(urlparse(url).query)["token"][0]


def test_lesson_links_stream_with_ranges_and_are_never_cached(world: World) -> None:
    got = links(world, "mentor", "lessons", "lesson_a")
    assert 540 <= got["expires_in"] <= 600
    for name in ("media", "captions", "thumbnails", "sprite", "poster"):
        assert got[name].startswith(f"/api/v1/lessons/{world.ids['lesson_a']}/"), name
        assert token_of(got[name]) == got["token"], name

    media = get(world, got["media"], Range="bytes=0-99")
    assert media.status_code == 206
    assert media.headers["content-range"].startswith("bytes 0-99/")
    assert len(media.content) == 100
    assert media.headers["cache-control"] == "private, no-store"
    assert media.headers["referrer-policy"] == "no-referrer"
    # Later ranges of the same file, as a player seeking through it asks for them.
    size = int(media.headers["content-range"].rsplit("/", 1)[1])
    tail = get(world, got["media"], Range=f"bytes={size - 10}-")
    assert tail.status_code == 206 and len(tail.content) == 10

    captions = get(world, got["captions"])
    assert captions.status_code == 200
    assert captions.text.startswith("WEBVTT")
    assert captions.headers["cache-control"] == "private, no-store"

    track = get(world, got["thumbnails"])
    assert track.status_code == 200
    sprite_lines = [line for line in track.text.splitlines() if "#xywh=" in line]
    assert sprite_lines and all(f"?token={got['token']}#" in line for line in sprite_lines)
    sprite = get(world, sprite_lines[0].split("#")[0])
    assert sprite.status_code == 200 and sprite.headers["content-type"] == "image/jpeg"
    assert sprite.headers["cache-control"] == "private, no-store"
    poster = get(world, got["poster"])
    assert poster.status_code == 200 and poster.content[:2] == b"\xff\xd8"


def _views(world: World, lesson_key: str) -> list[str | None]:
    with session_scope(world.settings.database_url) as session:
        return list(
            session.scalars(
                select(AuditEvent.actor_id).where(
                    AuditEvent.action == "lesson.view",
                    AuditEvent.object_id == world.ids[lesson_key],
                )
            )
        )


def test_a_page_left_open_is_one_view_however_often_its_link_is_renewed(world: World) -> None:
    for _ in range(3):  # each renewal: a new link, and the player reads from byte 0 again
        got = links(world, "mentor", "lessons", "lesson_a")
        assert get(world, got["media"], Range="bytes=0-").status_code == 206
        assert get(world, got["media"], Range="bytes=100-").status_code == 206
    assert _views(world, "lesson_a") == [world.users["mentor"]]
    other = links(world, "ect_a", "lessons", "lesson_a")
    assert get(world, other["media"], Range="bytes=0-").status_code == 206
    assert sorted(map(str, _views(world, "lesson_a"))) == sorted(
        [world.users["mentor"], world.users["ect_a"]]
    )
    # after the window, the same person watching again is a new view
    with session_scope(world.settings.database_url) as session:
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.action == "lesson.view")
            .values(at=utcnow() - VIEW_WINDOW - timedelta(minutes=1))
        )
    got = links(world, "mentor", "lessons", "lesson_a")
    assert get(world, got["media"], Range="bytes=0-").status_code == 206
    assert len(_views(world, "lesson_a")) == 3


def test_clip_links_stream_the_clip_and_its_captions(world: World) -> None:
    got = links(world, "ect_a", "clips", "clip_shared")
    assert got["thumbnails"] is None and got["sprite"] is None and got["poster"] is None
    media = get(world, got["media"], Range="bytes=0-")
    assert media.status_code == 206
    assert media.headers["cache-control"] == "private, no-store"
    captions = get(world, got["captions"])
    assert captions.status_code == 200 and "morning everyone" in captions.text


def test_the_bearer_header_still_works_and_keeps_its_caching(world: World) -> None:
    lesson = world.ids["lesson_a"]
    response = world.client.get(
        f"/api/v1/lessons/{lesson}/media",
        headers={**world.auth("ect_a"), "Range": "bytes=0-9"},
    )
    assert response.status_code == 206
    assert response.headers["cache-control"] == "private, max-age=300"


def test_a_token_opens_only_the_resource_it_was_made_for(world: World) -> None:
    ids = world.ids
    lesson_token = links(world, "mentor", "lessons", "lesson_a")["token"]
    clip_token = links(world, "mentor", "clips", "clip_shared")["token"]
    refused = {
        # another lesson or clip (the mentor may see clip_draft, but not with this link)
        f"/api/v1/lessons/{ids['lesson_b']}/media?token={lesson_token}",
        f"/api/v1/clips/{ids['clip_draft']}/media?token={clip_token}",
        f"/api/v1/clips/{ids['clip_shared']}/media?token={lesson_token}",
        f"/api/v1/lessons/{ids['lesson_a']}/media?token={clip_token}",
        # the lesson's own other routes that take no link
        f"/api/v1/lessons/{ids['lesson_a']}/transcript?format=json&token={lesson_token}",
        f"/api/v1/lessons/{ids['lesson_a']}/transcript?format=txt&token={lesson_token}",
    }
    for url in refused:
        response = world.client.get(url)
        assert response.status_code == 401, (url, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer error=")
    # Routes that do not take links at all: the token is not even looked at.
    for url in (
        f"/api/v1/lessons/{ids['lesson_a']}?token={lesson_token}",
        f"/api/v1/lessons/{ids['lesson_a']}/segments?token={lesson_token}",
        f"/api/v1/lessons/{ids['lesson_a']}/media-links?token={lesson_token}",
        f"/api/v1/clips/{ids['clip_shared']}/comments?token={clip_token}",
    ):
        assert world.client.get(url).status_code == 401, url
    # The draft clip the mentor may see still opens with its own link.
    draft = links(world, "mentor", "clips", "clip_draft")
    assert get(world, draft["media"], Range="bytes=0-9").status_code == 206


def test_media_tokens_and_session_tokens_are_not_interchangeable(world: World) -> None:
    lesson = world.ids["lesson_a"]
    media_token = links(world, "ect_a", "lessons", "lesson_a")["token"]
    as_bearer = world.client.get(
        f"/api/v1/lessons/{lesson}/media", headers={"Authorization": f"Bearer {media_token}"}
    )
    assert as_bearer.status_code == 401
    me = world.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {media_token}"})
    assert me.status_code == 401
    session_token = world.tokens["ect_a"]
    as_link = world.client.get(f"/api/v1/lessons/{lesson}/media?token={session_token}")
    assert as_link.status_code == 401


def test_an_expired_link_is_refused(world: World) -> None:
    claims = decode_token(world.settings, world.tokens["mentor"])
    resource = f"lesson:{world.ids['lesson_a']}"
    old = issue_media_token(world.settings, claims, resource, now=utcnow() - timedelta(minutes=11))
    response = world.client.get(f"/api/v1/lessons/{world.ids['lesson_a']}/media?token={old.token}")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    fresh = issue_media_token(world.settings, claims, resource, now=utcnow() - timedelta(minutes=9))
    response = world.client.get(
        f"/api/v1/lessons/{world.ids['lesson_a']}/media?token={fresh.token}",
        headers={"Range": "bytes=0-9"},
    )
    assert response.status_code == 206


def test_a_link_never_outlives_the_session_that_made_it(world: World) -> None:
    claims = decode_token(world.settings, world.tokens["mentor"])
    late = utcnow() + timedelta(hours=12) - timedelta(minutes=2)  # 2 minutes before it ends
    issued = issue_media_token(world.settings, claims, "lesson:x", now=late)
    assert issued.expires_at <= claims.expires_at


def test_signing_out_ends_the_links_of_that_session(world: World) -> None:
    got = links(world, "ect_a", "lessons", "lesson_a")
    assert get(world, got["media"], Range="bytes=0-9").status_code == 206
    logout = world.client.post("/api/v1/auth/logout", headers=world.auth("ect_a"))
    assert logout.status_code == 204
    for name in ("media", "captions", "thumbnails", "sprite", "poster"):
        response = get(world, got[name])
        assert response.status_code == 401, name
        assert "signed out" in response.json()["detail"]


def test_a_deactivated_account_loses_its_links(world: World) -> None:
    got = links(world, "ect_a", "lessons", "lesson_a")
    response = world.client.patch(
        f"/api/v1/admin/users/{world.users['ect_a']}",
        json={"active": False},
        headers=world.auth("admin"),
    )
    assert response.status_code == 200
    assert get(world, got["media"]).status_code == 401


def test_access_is_checked_again_on_every_request(world: World) -> None:
    """A link is not a grant: when the share is revoked or the pairing ends, it stops at once."""
    ect_links = links(world, "ect_a", "clips", "clip_shared")
    assert get(world, ect_links["media"], Range="bytes=0-9").status_code == 206
    clip, share = world.ids["clip_shared"], world.ids["share_clip_shared"]
    revoke = world.client.delete(
        f"/api/v1/clips/{clip}/shares/{share}", headers=world.auth("mentor")
    )
    assert revoke.status_code == 204
    assert get(world, ect_links["media"], Range="bytes=0-9").status_code == 404
    assert get(world, ect_links["captions"]).status_code == 404

    mentor_links = links(world, "mentor", "lessons", "lesson_a")
    assert get(world, mentor_links["media"], Range="bytes=0-9").status_code == 206
    with session_scope(world.settings.database_url) as session:
        session.delete(session.get(Pairing, world.ids["pairing"]))
    for name in ("media", "captions", "thumbnails", "sprite", "poster"):
        assert get(world, mentor_links[name]).status_code == 404, name


def test_a_link_made_for_another_user_grants_nothing_by_itself(world: World) -> None:
    """Even a correctly signed link for lesson_a, made for ect_b's session, is only as good as
    ect_b's own access, which is none."""
    claims = decode_token(world.settings, world.tokens["ect_b"])
    forged = issue_media_token(world.settings, claims, f"lesson:{world.ids['lesson_a']}")
    url = f"/api/v1/lessons/{world.ids['lesson_a']}/media?token={forged.token}"
    response = world.client.get(url)
    assert response.status_code == 404
    # And ect_b cannot ask for links to it in the first place.
    asked = world.client.get(
        f"/api/v1/lessons/{world.ids['lesson_a']}/media-links", headers=world.auth("ect_b")
    )
    assert asked.status_code == 404


def test_a_tampered_link_is_refused(world: World) -> None:
    token = links(world, "ect_a", "lessons", "lesson_a")["token"]
    assert token
    head, body, signature = token.split(".")
    tampered = f"{head}.{body}.{signature[:-4]}AAAA"
    url = f"/api/v1/lessons/{world.ids['lesson_a']}/media?token={tampered}"
    assert world.client.get(url).status_code == 401


# logs


def test_the_redaction_filter_hides_tokens_in_messages_and_arguments(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from api import logredaction

    logredaction.install()
    logger = logging.getLogger("uvicorn.access")
    secret = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            f"/api/v1/lessons/abc/transcript?format=vtt&token={secret}&x=1",
            "1.1",
            200,
        )
        logger.info(f"GET /api/v1/clips/c/media?token={secret}")
    text = caplog.text
    assert secret not in text
    assert "/api/v1/lessons/abc/transcript?format=vtt&token=[redacted]&x=1" in text
    assert "/api/v1/clips/c/media?token=[redacted]" in text


@pytest.fixture
def uvicorn_with_access_log(world: World) -> Iterator[tuple[str, list[str]]]:
    """The app under a real uvicorn whose access log is on, as `clipcoach serve` runs it."""
    import uvicorn

    config = uvicorn.Config(world.app, host="127.0.0.1", port=0, log_level="info", lifespan="off")
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)  # after uvicorn's dictConfig, which replaces handlers
    try:
        with uvicorn_thread(config) as port:
            yield f"http://127.0.0.1:{port}", lines
    finally:
        access.removeHandler(handler)


def test_uvicorns_access_log_never_shows_a_token(
    world: World, uvicorn_with_access_log: tuple[str, list[str]]
) -> None:
    url, lines = uvicorn_with_access_log
    got = links(world, "ect_a", "lessons", "lesson_a")
    token = got["token"]
    assert token
    for name in ("media", "captions", "thumbnails", "sprite", "poster"):
        response = httpx.get(url + (got[name] or ""), headers={"Range": "bytes=0-"})
        assert response.status_code in (200, 206), name
    bad = httpx.get(f"{url}/api/v1/lessons/{world.ids['lesson_b']}/media?token={token}")
    assert bad.status_code == 401
    deadline = time.monotonic() + 5
    while len(lines) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    log = "\n".join(lines)
    assert len(lines) >= 6, log
    assert token not in log
    assert token.split(".")[2] not in log  # not even the signature
    assert f"/api/v1/lessons/{world.ids['lesson_a']}/media?token=[redacted]" in log
    assert " 206" in log and " 401" in log


# the pages' policy


def test_page_csp_names_the_object_store_only_when_media_is_redirected_there(
    tmp_path: Path,
) -> None:
    from api.pages import security_headers
    from models.settings import Settings
    from models.storage import public_media_origin

    def csp(storage_url: str) -> dict[str, str]:
        settings = Settings(data_dir=tmp_path, storage_url=storage_url)
        policy = security_headers(settings)["Content-Security-Policy"]
        return dict(part.split(" ", 1) for part in policy.split("; "))

    local = csp("")
    assert local["media-src"] == "'self'"
    assert local["img-src"] == "'self' data:"
    assert local["connect-src"] == "'self'"
    assert "blob:" not in "; ".join(local.values())

    minio = "s3://key:secret@minio:9000/lessons?secure=false"
    assert public_media_origin(minio) == "http://minio:9000"
    behind_proxy = minio + "&public_url=https://media.school.example"
    assert public_media_origin(behind_proxy) == "https://media.school.example"
    assert public_media_origin("s3://k:s@s3.example.org/b") == "https://s3.example.org"
    assert public_media_origin((tmp_path / "store").as_uri()) is None
    s3 = csp(behind_proxy)
    for directive in ("media-src", "img-src", "connect-src"):
        assert "https://media.school.example" in s3[directive].split(), directive
    assert s3["script-src"] == "'self'" and s3["default-src"] == "'self'"
    assert "secret" not in "; ".join(s3.values())


def test_pages_send_the_policy_from_settings(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from models.settings import get_settings

    page = world.client.get("/lessons/abc")
    assert "media-src 'self';" in page.headers["content-security-policy"]
    monkeypatch.setenv(
        "CLIPCOACH_STORAGE_URL", "s3://k:s@minio:9000/b?secure=false&public_url=http://m.test:9000"
    )
    get_settings.cache_clear()
    page = world.client.get("/clips/abc")
    assert "media-src 'self' http://m.test:9000;" in page.headers["content-security-policy"]
    script = world.client.get("/static/js/media.js")
    assert "img-src 'self' http://m.test:9000 data:" in script.headers["content-security-policy"]
