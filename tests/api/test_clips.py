"""Clips render on demand: the first request for media queues the worker task and answers 503
with Retry-After at once (the page asks again); a failed one says why; an edited range renders
afresh."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from models import queue
from models.coaching import Clip, RenderStatus
from models.db import session_scope
from models.queue import InProcessQueue
from tests.api.conftest import World, get_rendered, use_queue


def new_clip(world: World, start: float = 1.0, end: float = 4.0) -> str:
    r = world.client.post(
        "/api/v1/clips",
        headers=world.auth("mentor"),
        json={"lesson_id": world.ids["lesson_a"], "start": start, "end": end},
    )
    assert r.status_code == 201, r.text
    assert r.json()["render_status"] == "none"
    return str(r.json()["id"])


def duration_of(data: bytes, tmp_path: Path) -> float:
    path = tmp_path / "got.mp4"
    path.write_bytes(data)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", path],
        capture_output=True,
        check=True,
    ).stdout
    return float(json.loads(out)["format"]["duration"])


def test_media_is_rendered_on_first_request(
    world: World, inline_queue: InProcessQueue, tmp_path: Path
) -> None:
    clip = new_clip(world)
    r = get_rendered(world.client, f"/api/v1/clips/{clip}/media", world.auth("mentor"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "video/mp4"
    assert abs(duration_of(r.content, tmp_path) - 3.0) < 0.1
    assert [name for name, _ in inline_queue.sent] == [queue.RENDER_CLIP]
    # served from storage afterwards, with ranges, without another render
    r = world.client.get(
        f"/api/v1/clips/{clip}/media", headers={**world.auth("mentor"), "Range": "bytes=0-99"}
    )
    assert r.status_code == 206
    assert len(inline_queue.sent) == 1
    captions = world.client.get(f"/api/v1/clips/{clip}/captions.vtt", headers=world.auth("mentor"))
    assert captions.status_code == 200
    assert captions.text.startswith("WEBVTT")
    detail = world.client.get(f"/api/v1/clips/{clip}", headers=world.auth("mentor")).json()
    assert detail["render_status"] == "ready"


def test_editing_the_range_renders_afresh(
    world: World, inline_queue: InProcessQueue, tmp_path: Path
) -> None:
    clip = new_clip(world)
    assert (
        get_rendered(world.client, f"/api/v1/clips/{clip}/media", world.auth("mentor")).status_code
        == 200
    )
    with session_scope(world.settings.database_url) as session:
        old_key = session.get(Clip, clip).media_key  # type: ignore[union-attr]
    r = world.client.patch(
        f"/api/v1/clips/{clip}", headers=world.auth("mentor"), json={"start": 2.0, "end": 5.5}
    )
    assert r.status_code == 200
    assert (r.json()["start"], r.json()["end"], r.json()["render_status"]) == (2.0, 5.5, "none")
    assert old_key is not None
    assert not world.storage.exists(old_key)
    r = get_rendered(world.client, f"/api/v1/clips/{clip}/media", world.auth("mentor"))
    assert abs(duration_of(r.content, tmp_path) - 3.5) < 0.1


def test_a_clip_still_rendering_is_503_with_retry_after_at_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    tasks = InProcessQueue()  # records what is sent; nothing renders
    use_queue(world.app, tasks)
    clip = new_clip(world)
    began = time.monotonic()
    r = world.client.get(f"/api/v1/clips/{clip}/media", headers=world.auth("mentor"))
    assert time.monotonic() - began < 1.0, "the request waited for the render"
    assert r.status_code == 503
    assert r.headers["retry-after"] == "3"
    assert "still being made" in r.json()["detail"]
    # asking again while it is queued does not queue it twice
    r = world.client.get(f"/api/v1/clips/{clip}/captions.vtt", headers=world.auth("mentor"))
    assert r.status_code == 503
    assert [name for name, _ in tasks.sent] == [queue.RENDER_CLIP]


def test_a_failed_render_says_why(world: World, inline_queue: InProcessQueue) -> None:
    clip = new_clip(world)
    with session_scope(world.settings.database_url) as session:
        row = session.get(Clip, clip)
        assert row is not None
        row.start, row.end = 7.0, 9.0  # past the media's end, as if the lesson had been cut short
    r = get_rendered(world.client, f"/api/v1/clips/{clip}/media", world.auth("mentor"))
    assert r.status_code == 409
    assert "could not be made [clip_out_of_range]" in r.json()["detail"]
    inline_queue.join()
    with session_scope(world.settings.database_url) as session:
        assert session.get(Clip, clip).render_status == RenderStatus.failed  # type: ignore[union-attr]


def test_sharing_renders_the_clip_before_the_ect_opens_it(
    world: World, inline_queue: InProcessQueue
) -> None:
    """A share queues the render on the clip queue at once, so the ECT's first view is served
    from storage (no render task sent then); sharing again does not render twice."""
    clip = new_clip(world)
    r = world.client.post(f"/api/v1/clips/{clip}/shares", headers=world.auth("mentor"), json={})
    assert r.status_code == 201, r.text
    assert [name for name, _ in inline_queue.sent] == [queue.RENDER_CLIP]
    assert queue.TASK_ROUTES[queue.RENDER_CLIP] == {"queue": queue.CLIPS_QUEUE}
    inline_queue.join()
    with session_scope(world.settings.database_url) as session:
        row = session.get(Clip, clip)
        assert row is not None and row.render_status == RenderStatus.ready
    again = world.client.post(f"/api/v1/clips/{clip}/shares", headers=world.auth("mentor"), json={})
    assert again.status_code == 201
    media = world.client.get(f"/api/v1/clips/{clip}/media", headers=world.auth("ect_a"))
    assert media.status_code == 200
    assert len(inline_queue.sent) == 1


def stored_and_shown_frames(data: bytes, tmp_path: Path) -> tuple[int, int]:
    """(video packets stored in the MP4, frames a decoder shows of it)."""
    path = tmp_path / "counted.mp4"
    path.write_bytes(data)
    counts = []
    for editlist in ("1", "0"):
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-ignore_editlist", editlist, "-count_frames",
             "-count_packets", "-select_streams", "v:0",
             "-show_entries", "stream=nb_read_packets,nb_read_frames", "-of", "json", path],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        stream = json.loads(out)["streams"][0]
        counts.append(int(stream["nb_read_packets" if editlist == "1" else "nb_read_frames"]))
    return counts[0], counts[1]


def test_a_plain_clip_is_copied_with_a_hidden_lead_in_and_a_blanked_one_cut_exactly(
    world: World, inline_queue: InProcessQueue, tmp_path: Path
) -> None:
    """Shared as rendered, a clip starting inside a group is the lesson's packets from the IDR
    before it (1 s), the edit list hiding the 0.52 s before the start; once a moment in it is
    blanked, the clip is filtered (re-encoded) and holds exactly its own frames."""
    clip = new_clip(world, 1.52, 3.0)
    r = get_rendered(world.client, f"/api/v1/clips/{clip}/media", world.auth("mentor"))
    assert r.status_code == 200, r.text
    assert duration_of(r.content, tmp_path) == pytest.approx(1.48, abs=0.03)
    stored, shown = stored_and_shown_frames(r.content, tmp_path)
    assert shown == 37  # 1.52 .. 2.96 s
    assert stored >= shown + 13  # from the IDR at 1.0 s
    blank = world.client.post(
        f"/api/v1/lessons/{world.ids['lesson_a']}/blanks",
        json={"start": 2.0, "end": 2.5},
        headers=world.auth("mentor"),
    )
    assert blank.status_code == 201, blank.text
    r = get_rendered(world.client, f"/api/v1/clips/{clip}/media", world.auth("mentor"))
    assert r.status_code == 200, r.text
    assert stored_and_shown_frames(r.content, tmp_path) == (37, 37)
