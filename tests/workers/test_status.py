"""Stage state transitions: claiming, joining parallel branches, progress and failure."""

from __future__ import annotations

import pytest

from models.db import session_scope
from models.lesson import Lesson, LessonStatus
from models.settings import Settings
from pipeline.lesson import STAGES, StageOutcome
from workers import status


@pytest.fixture
def lesson_id(settings: Settings) -> str:
    with session_scope(settings.database_url) as session:
        lesson = Lesson(source_key="lessons/x/source.mp4", title="Year 8 fractions")
        session.add(lesson)
        session.flush()
        return lesson.id


def _lesson(settings: Settings, lesson_id: str) -> Lesson:
    with session_scope(settings.database_url) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        return lesson


def _run(settings: Settings, lesson_id: str, stage: str, outcome: StageOutcome) -> list[str]:
    assert status.begin_stage(settings.database_url, lesson_id, stage) is not None
    return status.finish_stage(settings.database_url, lesson_id, stage, outcome)


def test_a_new_lesson_starts_with_probe_only(settings: Settings, lesson_id: str) -> None:
    assert status.start_lesson(settings.database_url, lesson_id) == ["probe"]
    # Reprocessing resets the stages and starts from probe again.
    assert status.start_lesson(settings.database_url, lesson_id) == ["probe"]


def test_branches_fan_out_and_join_once(settings: Settings, lesson_id: str) -> None:
    db = settings.database_url
    status.start_lesson(db, lesson_id)
    facts = {"duration": 12.5, "has_video": True, "has_audio": True}
    assert sorted(_run(settings, lesson_id, "probe", StageOutcome(facts=facts))) == [
        "audio",
        "normalise",
        "scenes",
        "thumbnails",
    ]
    assert _run(settings, lesson_id, "audio", StageOutcome()) == ["transcribe"]
    assert _run(settings, lesson_id, "thumbnails", StageOutcome()) == []
    assert _run(settings, lesson_id, "scenes", StageOutcome()) == []
    # The last branch to finish unblocks segment, exactly once; it does not wait for the video.
    assert _run(settings, lesson_id, "transcribe", StageOutcome()) == ["segment"]
    assert _run(settings, lesson_id, "segment", StageOutcome()) == []
    assert _lesson(settings, lesson_id).status == LessonStatus.processing
    # Ready only once the browser copy is stored.
    media = StageOutcome(outputs=["lesson.mp4"], facts={"media": "lesson.mp4"})
    assert _run(settings, lesson_id, "normalise", media) == []

    lesson = _lesson(settings, lesson_id)
    assert lesson.status == LessonStatus.ready
    assert lesson.progress == 100
    assert lesson.duration == 12.5
    assert lesson.media_key == f"lessons/{lesson_id}/lesson.mp4"


def test_progress_grows_with_weighted_stages(settings: Settings, lesson_id: str) -> None:
    db = settings.database_url
    status.start_lesson(db, lesson_id)
    _run(settings, lesson_id, "probe", StageOutcome())
    after_probe = _lesson(settings, lesson_id).progress
    status.begin_stage(db, lesson_id, "normalise")
    status.report_progress(db, lesson_id, "normalise", 0.5)
    halfway = _lesson(settings, lesson_id).progress
    assert 0 < after_probe < halfway < 100
    total = sum(s.weight for s in STAGES.values())
    assert halfway == int(100 * (STAGES["probe"].weight + STAGES["normalise"].weight / 2) / total)


def test_a_finished_stage_is_not_run_again(settings: Settings, lesson_id: str) -> None:
    db = settings.database_url
    status.start_lesson(db, lesson_id)
    _run(settings, lesson_id, "probe", StageOutcome())
    assert status.begin_stage(db, lesson_id, "probe") is None


def test_failure_is_recorded_and_stops_the_lesson(settings: Settings, lesson_id: str) -> None:
    db = settings.database_url
    status.start_lesson(db, lesson_id)
    status.begin_stage(db, lesson_id, "probe")
    status.fail_stage(db, lesson_id, "probe", "not_media", "This file is not a recording.")
    lesson = _lesson(settings, lesson_id)
    assert (lesson.status, lesson.error_code, lesson.stage) == (
        LessonStatus.failed,
        "not_media",
        "probe",
    )
    assert lesson.error_message == "This file is not a recording."
    # Nothing runs for a failed lesson, even if a message for it is delivered again.
    assert status.begin_stage(db, lesson_id, "normalise") is None


def test_skipped_transcription_is_explained(settings: Settings, lesson_id: str) -> None:
    db = settings.database_url
    status.start_lesson(db, lesson_id)
    _run(settings, lesson_id, "probe", StageOutcome(facts={"has_audio": False}))
    reason = "This recording has no sound, so it has no transcript."
    assert _run(settings, lesson_id, "audio", StageOutcome(skipped=reason)) == ["transcribe"]
    assert reason in _lesson(settings, lesson_id).warnings


def test_a_stage_learns_the_class_list_names_and_gives_them_to_the_model(
    settings: Settings, lesson_id: str
) -> None:
    from models.pupilnames import PupilName
    from workers.options import lesson_options

    with session_scope(settings.database_url) as session:
        session.add(PupilName(owner_id=None, name="Siobhan", folded="siobhan"))
    status.start_lesson(settings.database_url, lesson_id)
    ctx = status.begin_stage(settings.database_url, lesson_id, "probe")
    assert ctx is not None and ctx.pupil_names == ("Siobhan",)
    options = lesson_options(settings, {"vocabulary": ["phonics"]}, pupil_names=ctx.pupil_names)
    assert options.transcription.hotwords == "phonics, Siobhan"
    assert "Siobhan" not in str(options.transcription.to_dict())
