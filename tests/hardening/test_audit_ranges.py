"""Every route that returns lesson content is audited, and a view is a view however its bytes
are asked for: the first request per person and thing in the audit window counts, whatever its
Range header (issue 21, point 6)."""

from __future__ import annotations

from sqlalchemy import delete, select

from models.audit import AuditEvent
from models.db import session_scope
from tests.api.conftest import World

SPELLINGS = (
    None,
    "bytes=0-",
    "bytes=00-",
    "bytes=000-99",
    "bytes=1-,0-0",
    "bytes=-500",
    "bytes=10-20,30-40",
    "bytes= 0 -",
    "BYTES=5-",
)


def events(world: World, action: str, object_id: str) -> int:
    with session_scope(world.settings.database_url) as s:
        rows = s.scalars(
            select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_id == object_id)
        )
        return len(list(rows))


def forget(world: World) -> None:
    with session_scope(world.settings.database_url) as s:
        s.execute(delete(AuditEvent))


def test_any_range_spelling_counts_as_a_view(world: World) -> None:
    lesson, clip = world.ids["lesson_a"], world.ids["clip_shared"]
    for url, action, thing in (
        (f"/api/v1/lessons/{lesson}/media", "lesson.view", lesson),
        (f"/api/v1/clips/{clip}/media", "clip.download", clip),
    ):
        for spelling in SPELLINGS:
            forget(world)
            headers = {**world.auth("ect_a"), **({"Range": spelling} if spelling else {})}
            r = world.client.get(url, headers=headers)
            assert r.status_code in (200, 206, 416), (url, spelling, r.status_code)
            assert events(world, action, thing) == 1, (url, spelling)
            # the player's next ranges within the window are the same view
            again = world.client.get(url, headers={**world.auth("ect_a"), "Range": "bytes=0-"})
            assert again.status_code in (200, 206)
            assert events(world, action, thing) == 1, (url, spelling)


def test_every_content_route_is_audited(world: World) -> None:
    lesson, clip = world.ids["lesson_a"], world.ids["clip_shared"]
    routes = {
        f"/api/v1/lessons/{lesson}/media": ("lesson.view", lesson),
        f"/api/v1/lessons/{lesson}/transcript?format=json": ("lesson.transcript", lesson),
        f"/api/v1/lessons/{lesson}/transcript?format=vtt": ("lesson.transcript", lesson),
        f"/api/v1/lessons/{lesson}/segments": ("lesson.segments", lesson),
        f"/api/v1/lessons/{lesson}/thumbnails.vtt": ("lesson.thumbnails", lesson),
        f"/api/v1/lessons/{lesson}/sprite.jpg": ("lesson.sprite", lesson),
        f"/api/v1/lessons/{lesson}/poster.jpg": ("lesson.poster", lesson),
        f"/api/v1/clips/{clip}/media": ("clip.download", clip),
        f"/api/v1/clips/{clip}/captions.vtt": ("clip.captions", clip),
    }
    for url, (action, thing) in routes.items():
        forget(world)
        r = world.client.get(url, headers=world.auth("mentor"))
        assert r.status_code == 200, (url, r.status_code, r.text[:200])
        assert events(world, action, thing) >= 1, url
