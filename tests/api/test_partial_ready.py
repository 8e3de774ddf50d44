"""A lesson whose video must be converted is usable before the browser copy exists (issue 16):
the transcript, suggested clips and pictures come from the recording itself, and the status
says which parts are ready. Runs the workers' real stage code on a real HEVC recording, with the
fake transcriber, holding the normalise stage back half-way."""

from __future__ import annotations

from collections import deque

import pytest

from models.db import session_scope
from models.lesson import Lesson
from models.storage import open_storage
from tests import mediafactory as mf
from tests.api.conftest import World
from tests.fakes import always, script_transcript
from workers import status
from workers.runner import execute_stage


@pytest.fixture
def hevc_lesson(world: World, tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("hevc")
    spec = mf.make_video(folder / "phone.mp4", duration=4.0, vcodec="hevc", cut_times=(2.0,))
    with session_scope(world.settings.database_url) as s:
        lesson = Lesson(
            owner_id=world.users["ect_a"], title="Phone", source_key="", source_filename="p.mp4"
        )
        s.add(lesson)
        s.flush()
        lesson.source_key = lesson.artefact_key("source.mp4")
        world.storage.put_file(lesson.source_key, spec.path)
        return lesson.id


def run_all_but_normalise(world: World, lesson_id: str) -> None:
    """Every stage through the worker code, except that normalise is left running at 45 %."""
    db = world.settings.database_url
    storage = open_storage(world.settings.storage_url)
    pending = deque(status.start_lesson(db, lesson_id))
    while pending:
        stage = pending.popleft()
        if stage == "normalise":
            status.begin_stage(db, lesson_id, stage)
            status.report_progress(db, lesson_id, stage, 0.45)
            continue
        execute_stage(
            world.settings, storage, lesson_id, stage, lambda _l, nxt: pending.append(nxt),
            always(script_transcript),
        )  # fmt: skip


def test_transcript_clips_and_poster_before_the_video_is_converted(
    world: World, hevc_lesson: str
) -> None:
    run_all_but_normalise(world, hevc_lesson)
    auth = world.auth("ect_a")
    base = f"/api/v1/lessons/{hevc_lesson}"
    lesson = world.client.get(base, headers=auth).json()
    assert lesson["status"] == "processing"
    assert lesson["parts"] == {
        "transcript": True,
        "segments": True,
        "thumbnails": True,
        "video": False,
        "video_progress": 0.45,
    }
    assert world.client.get(f"{base}/transcript?format=txt", headers=auth).status_code == 200
    assert world.client.get(f"{base}/segments", headers=auth).json()
    poster = world.client.get(f"{base}/poster.jpg", headers=auth)
    assert poster.status_code == 200 and poster.content[:2] == b"\xff\xd8"
    assert world.client.get(f"{base}/thumbnails.vtt", headers=auth).text.startswith("WEBVTT")
    missing = world.client.get(f"{base}/media", headers=auth)
    assert missing.status_code == 404 and "not ready yet" in missing.json()["detail"]
    assert world.client.get(f"{base}/media-links", headers=auth).json()["media"] is None

    # The browser copy is stored: fully ready.
    storage = open_storage(world.settings.storage_url)
    execute_stage(world.settings, storage, hevc_lesson, "normalise", lambda _l, _n: None)
    lesson = world.client.get(base, headers=auth).json()
    assert lesson["status"] == "ready"
    assert lesson["parts"]["video"] is True and lesson["parts"]["video_progress"] == 1.0
    assert world.client.get(f"{base}/media", headers=auth).status_code in (200, 206)
