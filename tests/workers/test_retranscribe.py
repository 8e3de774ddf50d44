"""Transcribing a processed lesson again runs only audio, transcribe and segment.

The real worker stage code runs over a small generated recording; the transcriber is a fake that
writes down the language and vocabulary it was given, so the test sees which settings made which
transcript.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Any

import pytest

from models.db import session_scope
from models.lesson import Lesson, LessonStage, LessonStatus, StageStatus
from models.settings import Settings
from models.storage import Storage, open_storage
from tests.fakes import always, settings_transcript
from tests.mediafactory import make_video
from workers import status
from workers.runner import execute_stage
from workers.transcription_tasks import RETRANSCRIBED_STAGES, retranscribe

KEPT = ("probe", "normalise", "thumbnails", "scenes")


def _drain(settings: Settings, storage: Storage, lesson_id: str, first: list[str]) -> list[str]:
    """Run stages (and the ones they unblock) in this process; return what ran, in order."""
    ran: list[str] = []
    pending = deque(first)
    while pending:
        stage = pending.popleft()
        ran.append(stage)
        execute_stage(
            settings, storage, lesson_id, stage, lambda _l, nxt: pending.append(nxt),
            always(settings_transcript),
        )  # fmt: skip
    return ran


def _stages(settings: Settings, lesson_id: str) -> dict[str, tuple[Any, ...]]:
    with session_scope(settings.database_url) as s:
        rows = s.query(LessonStage).filter_by(lesson_id=lesson_id).all()
        return {r.name: (r.status, r.attempts, r.started_at, r.finished_at) for r in rows}


@pytest.fixture
def processed(settings: Settings, tmp_path: Path) -> tuple[str, Storage]:
    storage = open_storage(settings.storage_url)
    video = make_video(tmp_path / "lesson.mp4", duration=2.0).path
    with session_scope(settings.database_url) as s:
        lesson = Lesson(source_key="", title="Y8", source_filename="lesson.mp4")
        s.add(lesson)
        s.flush()
        lesson.source_key = lesson.artefact_key("source.mp4")
        storage.put_file(lesson.source_key, video)
        lesson_id = lesson.id
    _drain(settings, storage, lesson_id, status.start_lesson(settings.database_url, lesson_id))
    with session_scope(settings.database_url) as s:
        assert s.get(Lesson, lesson_id).status == LessonStatus.ready  # type: ignore[union-attr]
    return lesson_id, storage


def _transcript(storage: Storage, lesson_id: str) -> dict[str, Any]:
    return json.loads(storage.get_bytes(f"lessons/{lesson_id}/transcript.json"))


def test_only_the_transcription_stages_run_again_with_the_new_settings(
    settings: Settings, processed: tuple[str, Storage]
) -> None:
    lesson_id, storage = processed
    assert _transcript(storage, lesson_id)["language"] == "en"
    before = _stages(settings, lesson_id)
    with session_scope(settings.database_url) as s:
        lesson = s.get(Lesson, lesson_id)
        assert lesson is not None
        lesson.options = {"language": "cy", "vocabulary": ["Ysgol", "SENCO"]}

    claimed = retranscribe(settings.database_url, lesson_id, lambda _l, _s: None)
    assert claimed == ["audio"]
    after_reset = _stages(settings, lesson_id)
    assert after_reset["audio"][0] == StageStatus.queued
    assert after_reset["transcribe"][0] == after_reset["segment"][0] == StageStatus.pending
    ran = _drain(settings, storage, lesson_id, claimed)

    assert ran == ["audio", "transcribe", "segment"]
    after = _stages(settings, lesson_id)
    for name in KEPT:
        assert after[name] == before[name], name  # same attempts, start and finish times
    for name in RETRANSCRIBED_STAGES:
        assert after[name][0] == StageStatus.done
        assert after[name][1] == before[name][1] + 1, name
        assert after[name][3] > before[name][3], name
    transcript = _transcript(storage, lesson_id)
    assert transcript["language"] == "cy"
    assert transcript["options"]["vocabulary"] == ["Ysgol", "SENCO"]
    segments = json.loads(storage.get_bytes(f"lessons/{lesson_id}/segments.json"))
    assert "Ysgol" in json.dumps(segments)  # segment ran over the new transcript
    analytics = json.loads(storage.get_bytes(f"lessons/{lesson_id}/analytics.json"))
    assert analytics["talk"][0]["words"] == 4  # so did the analytics: "Settings cy Ysgol SENCO"
    assert analytics["edges_from_voice"]  # with the speech regions transcribe stored beside it
    assert storage.exists(f"lessons/{lesson_id}/speech.json")
    speakers = json.loads(storage.get_bytes(f"lessons/{lesson_id}/speakers.json"))
    assert speakers["method"] == "resemblyzer-numpy"  # and the turns, over the new words
    with session_scope(settings.database_url) as s:
        lesson = s.get(Lesson, lesson_id)
        assert lesson is not None
        assert (lesson.status, lesson.progress, lesson.stage) == (LessonStatus.ready, 100, None)


def test_nothing_restarts_while_the_lesson_is_still_being_processed(
    settings: Settings, processed: tuple[str, Storage]
) -> None:
    lesson_id, _ = processed
    with session_scope(settings.database_url) as s:
        row = s.query(LessonStage).filter_by(lesson_id=lesson_id, name="scenes").one()
        row.status = StageStatus.running
    assert retranscribe(settings.database_url, lesson_id, lambda _l, _s: None) == []
    assert _stages(settings, lesson_id)["transcribe"][0] == StageStatus.done
    assert retranscribe(settings.database_url, "no-such-lesson", lambda _l, _s: None) == []


def test_a_repeated_message_does_not_restart_a_transcription_under_way(
    settings: Settings, processed: tuple[str, Storage]
) -> None:
    """Celery may deliver the message twice, and the sweep resends one it thinks was lost."""
    lesson_id, _ = processed
    assert retranscribe(settings.database_url, lesson_id, lambda _l, _s: None) == ["audio"]
    with session_scope(settings.database_url) as s:
        row = s.query(LessonStage).filter_by(lesson_id=lesson_id, name="audio").one()
        row.status = StageStatus.running
    assert retranscribe(settings.database_url, lesson_id, lambda _l, _s: None) == []
    assert _stages(settings, lesson_id)["audio"][0] == StageStatus.running


def test_switched_off_transcription_skips_even_with_an_old_audio_file(
    settings: Settings, processed: tuple[str, Storage]
) -> None:
    lesson_id, storage = processed
    assert storage.exists(f"lessons/{lesson_id}/audio.wav")
    assert "Settings" in storage.get_bytes(f"lessons/{lesson_id}/segments.json").decode()
    for fmt in ("json", "vtt", "srt", "txt"):
        storage.delete(f"lessons/{lesson_id}/transcript.{fmt}")
    with session_scope(settings.database_url) as s:
        lesson = s.get(Lesson, lesson_id)
        assert lesson is not None
        lesson.transcribe = False

    _drain(
        settings,
        storage,
        lesson_id,
        retranscribe(settings.database_url, lesson_id, lambda *a: None),
    )

    stages = _stages(settings, lesson_id)
    assert stages["audio"][0] == stages["transcribe"][0] == StageStatus.skipped
    assert stages["segment"][0] == StageStatus.done
    assert not storage.exists(f"lessons/{lesson_id}/transcript.json")
    segments = json.loads(storage.get_bytes(f"lessons/{lesson_id}/segments.json"))
    assert "Settings" not in json.dumps(segments)
