"""Blanking a moment over HTTP: the owner's mentor blanks a range of lesson_a; the ECT's shared
clip over it is rendered again with black picture and silence there (decoded and checked), its
captions lose the words said in it, and the audit records who did it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from models.audit import AuditEvent
from models.coaching import Clip
from models.db import session_scope
from models.queue import InProcessQueue
from tests.api.conftest import World, get_rendered
from tests.mediafactory import frame_lumas, loudness

V1 = "/api/v1"


def test_a_blanked_moment_is_black_silent_and_uncaptioned_in_the_shared_clip(
    world: World, inline_queue: InProcessQueue, tmp_path: Path
) -> None:
    w = world
    lesson, clip = w.ids["lesson_a"], w.ids["clip_shared"]  # clip 1.0-3.0, shared with ect_a
    with session_scope(w.settings.database_url) as s:
        old_key = s.get(Clip, clip).media_key  # type: ignore[union-attr]
    made = w.client.post(
        f"{V1}/lessons/{lesson}/blanks", json={"start": 1.5, "end": 2.5}, headers=w.auth("mentor")
    )
    assert made.status_code == 201, made.text
    assert (made.json()["start"], made.json()["end"]) == (1.5, 2.5)
    assert old_key is not None and not w.storage.exists(old_key)  # the old render is gone

    r = get_rendered(w.client, f"{V1}/clips/{clip}/media", w.auth("ect_a"))
    assert r.status_code == 200, r.text
    path = tmp_path / "shared.mp4"
    path.write_bytes(r.content)
    frames = frame_lumas(path)
    inside = [luma for t, luma in frames if 0.5 <= t < 1.499]
    outside = [luma for t, luma in frames if t < 0.46 or t >= 1.54]
    assert len(inside) >= 24 and outside
    assert max(inside) < 20 and min(outside) > 40
    quiet, before, after = loudness(path, [(0.55, 1.45), (0.05, 0.45), (1.6, 1.95)])
    assert quiet < 1e-3 and before > 0.01 and after > 0.01

    captions = w.client.get(f"{V1}/clips/{clip}/captions.vtt", headers=w.auth("ect_a")).text
    spoken = f" {captions} ".replace("\n", " ")
    for word in ("we", "are", "looking", "at"):  # said between 1.5 and 2.5 s
        assert f" {word} " not in spoken
    assert "Today equivalent fractions." in captions  # 1.25-1.45 s and from 2.5 s: kept

    listed = w.client.get(f"{V1}/lessons/{lesson}/blanks", headers=w.auth("ect_a")).json()
    assert [b["id"] for b in listed] == [made.json()["id"]]
    with session_scope(w.settings.database_url) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "lesson.blank")).one()
        assert event.actor_id == w.users["mentor"] and event.object_id == lesson
        assert event.detail["start"] == 1.5 and event.detail["clips"] >= 1


def test_who_may_blank_and_bad_ranges(world: World) -> None:
    w = world
    url = f"{V1}/lessons/{w.ids['lesson_a']}/blanks"
    body = {"start": 1.0, "end": 2.0}
    assert w.client.post(url, json=body, headers=w.auth("ect_a")).status_code == 201
    assert w.client.post(url, json=body, headers=w.auth("admin")).status_code == 201
    assert w.client.post(url, json=body, headers=w.auth("mentor_b")).status_code == 404
    assert w.client.post(url, json=body, headers=w.auth("ect_b")).status_code == 404
    for bad in ({"start": 2.0, "end": 1.0}, {"start": -1, "end": 1}, {"start": 99, "end": 100}):
        answer = w.client.post(url, json=bad, headers=w.auth("ect_a"))
        assert answer.status_code == 422, bad
        assert "detail" in answer.json()
    blank = w.client.get(url, headers=w.auth("mentor")).json()[0]["id"]
    gone = w.client.delete(f"{url}/{blank}", headers=w.auth("mentor"))
    assert gone.status_code == 204
    assert len(w.client.get(url, headers=w.auth("mentor")).json()) == 1
    with session_scope(w.settings.database_url) as s:
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "lesson.unblank")).one()
