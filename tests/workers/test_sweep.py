"""The sweep and the retries: stuck stages are requeued or failed with a reason, lost messages are
sent again, waiting ones are left alone, and transient errors are retried before failing."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from models import blanks
from models.blanks import BlankStatus, LessonBlank
from models.db import session_scope, utcnow
from models.lesson import Lesson, LessonStage, LessonStatus, StageStatus
from models.settings import Settings
from models.storage import StorageUnavailableError
from workers import status, sweep


@pytest.fixture
def lesson_id(settings: Settings) -> str:
    with session_scope(settings.database_url) as session:
        lesson = Lesson(source_key="lessons/x/source.mp4", title="Year 9 forces")
        session.add(lesson)
        session.flush()
        lesson_id = lesson.id
    assert status.start_lesson(settings.database_url, lesson_id) == ["probe"]
    return lesson_id


def _stage(settings: Settings, lesson_id: str, name: str) -> LessonStage:
    with session_scope(settings.database_url) as session:
        row = session.scalars(
            select(LessonStage).where(LessonStage.lesson_id == lesson_id, LessonStage.name == name)
        ).one()
        session.expunge(row)
        return row


def _age(settings: Settings, lesson_id: str, minutes: float) -> None:
    """Pretend the lesson and its stages were last touched `minutes` ago."""
    past = utcnow() - timedelta(minutes=minutes)
    with session_scope(settings.database_url) as session:
        session.execute(
            update(LessonStage)
            .where(LessonStage.lesson_id == lesson_id, LessonStage.heartbeat_at.is_not(None))
            .values(heartbeat_at=past)
        )
        session.execute(update(Lesson).where(Lesson.id == lesson_id).values(updated_at=past))


class Recorder:
    def __init__(self, depth: int = 0) -> None:
        self.sent: list[tuple[str, str]] = []
        self.depth = depth

    def enqueue(self, lesson_id: str, stage: str) -> None:
        self.sent.append((lesson_id, stage))

    def queue_depth(self, queue: str) -> int:
        return self.depth


def test_a_running_stage_with_a_fresh_heartbeat_is_left_alone(
    settings: Settings, lesson_id: str
) -> None:
    status.begin_stage(settings.database_url, lesson_id, "probe")
    recorder = Recorder()
    report = sweep.sweep(settings.database_url, recorder.enqueue, recorder.queue_depth)
    assert recorder.sent == [] and report.requeued == report.failed == []
    assert _stage(settings, lesson_id, "probe").status == StageStatus.running


def test_a_stage_whose_worker_died_is_requeued_then_failed(
    settings: Settings, lesson_id: str
) -> None:
    db = settings.database_url
    recorder = Recorder()
    for attempt in range(1, sweep.MAX_ATTEMPTS + 1):
        status.begin_stage(db, lesson_id, "probe")  # a worker picks it up ... and dies
        assert _stage(settings, lesson_id, "probe").attempts == attempt
        _age(settings, lesson_id, minutes=11)
        report = sweep.sweep(db, recorder.enqueue, recorder.queue_depth)
        if attempt < sweep.MAX_ATTEMPTS:
            assert report.requeued == [(lesson_id, "probe")]
            assert _stage(settings, lesson_id, "probe").status == StageStatus.queued
            # a second sweep straight after does nothing more
            assert sweep.sweep(db, recorder.enqueue, recorder.queue_depth).requeued == []
    assert recorder.sent == [(lesson_id, "probe")] * (sweep.MAX_ATTEMPTS - 1)
    assert report.failed == [(lesson_id, "probe")]
    with session_scope(db) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        assert lesson.status == LessonStatus.failed
        assert lesson.error_code == "stage_stalled"
        assert lesson.error_message and "probe" in lesson.error_message


def test_a_queued_stage_whose_message_was_lost_is_sent_again(
    settings: Settings, lesson_id: str
) -> None:
    db = settings.database_url
    waiting = Recorder(depth=5)
    _age(settings, lesson_id, minutes=30)
    # other messages are still in the queue: this one is waiting its turn
    assert sweep.sweep(db, waiting.enqueue, waiting.queue_depth).resent == []
    # the queue is empty, yet the stage is still queued: the broker lost it
    lost = Recorder(depth=0)
    assert sweep.sweep(db, lost.enqueue, lost.queue_depth).resent == [(lesson_id, "probe")]
    assert lost.sent == [(lesson_id, "probe")]
    # resent just now: not again until LOST_QUEUED has passed
    assert sweep.sweep(db, lost.enqueue, lost.queue_depth).resent == []


def test_a_freshly_queued_stage_is_not_resent(settings: Settings, lesson_id: str) -> None:
    recorder = Recorder(depth=0)
    assert sweep.sweep(settings.database_url, recorder.enqueue, recorder.queue_depth).resent == []


def test_finished_and_failed_lessons_are_ignored(settings: Settings, lesson_id: str) -> None:
    db = settings.database_url
    status.begin_stage(db, lesson_id, "probe")
    status.fail_stage(db, lesson_id, "probe", "not_media", "Not a recording.")
    _age(settings, lesson_id, minutes=60)
    recorder = Recorder()
    report = sweep.sweep(db, recorder.enqueue, recorder.queue_depth)
    assert (report.requeued, report.resent, report.failed, recorder.sent) == ([], [], [], [])


def test_a_join_nobody_claimed_is_sent(settings: Settings, lesson_id: str) -> None:
    """All of segment's prerequisites finished, yet it is still pending (the lost-claim race)."""
    db = settings.database_url
    with session_scope(db) as session:
        session.execute(
            update(LessonStage)
            .where(LessonStage.lesson_id == lesson_id, LessonStage.name != "segment")
            .values(status=StageStatus.done)
        )
        session.execute(
            update(Lesson).where(Lesson.id == lesson_id).values(status=LessonStatus.processing)
        )
    recorder = Recorder()
    assert sweep.sweep(db, recorder.enqueue, recorder.queue_depth).unblocked == []  # too fresh
    _age(settings, lesson_id, minutes=5)
    report = sweep.sweep(db, recorder.enqueue, recorder.queue_depth)
    assert report.unblocked == [(lesson_id, "segment")]
    assert recorder.sent == [(lesson_id, "segment")]
    assert _stage(settings, lesson_id, "segment").status == StageStatus.queued
    assert sweep.sweep(db, recorder.enqueue, recorder.queue_depth).unblocked == []


def test_heartbeat_thread_keeps_a_running_stage_alive(settings: Settings, lesson_id: str) -> None:
    db = settings.database_url
    status.begin_stage(db, lesson_id, "probe")
    _age(settings, lesson_id, minutes=30)
    with sweep.Heartbeat(db, lesson_id, "probe", interval=0.1):
        time.sleep(0.5)
    beat = _stage(settings, lesson_id, "probe").heartbeat_at
    assert beat is not None
    recorder = Recorder()
    assert sweep.sweep(db, recorder.enqueue, recorder.queue_depth).requeued == []


# -- retries of transient errors ----------------------------------------------------------------


@pytest.fixture
def eager(settings: Settings) -> Any:
    from workers.app import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = False
    yield app
    app.conf.task_always_eager = False


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            StorageUnavailableError("object storage at 127.0.0.1:9 is unavailable"),
            "storage_unavailable",
        ),
        (OperationalError("select 1", {}, Exception("connection refused")), "database_unavailable"),
    ],
)
def test_transient_errors_are_retried_then_fail_with_the_reason(
    settings: Settings,
    lesson_id: str,
    eager: Any,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    code: str,
) -> None:
    from workers import tasks

    calls: list[str] = []

    def unavailable(*args: Any) -> None:
        calls.append(args[2])
        raise error

    monkeypatch.setattr(tasks, "execute_stage", unavailable)
    tasks.stage_tasks["probe"].apply(args=[lesson_id])
    assert len(calls) == 1 + tasks.RETRY["max_retries"]
    with session_scope(settings.database_url) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        assert (lesson.status, lesson.error_code) == (LessonStatus.failed, code)
        assert lesson.error_message and "Try again later" in lesson.error_message


def test_a_transient_error_that_clears_is_not_a_failure(
    settings: Settings, lesson_id: str, eager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers import tasks

    calls: list[str] = []

    def flaky(*args: Any) -> None:
        calls.append(args[2])
        if len(calls) < 3:
            raise StorageUnavailableError("down for a moment")

    monkeypatch.setattr(tasks, "execute_stage", flaky)
    tasks.stage_tasks["probe"].apply(args=[lesson_id])
    assert len(calls) == 3
    with session_scope(settings.database_url) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None and lesson.status != LessonStatus.failed


def test_retry_backoff_stays_below_the_sweep_threshold() -> None:
    from workers import tasks

    assert tasks.RETRY["retry_backoff_max"] < sweep.STALE_RUNNING.total_seconds()
    assert sweep.HEARTBEAT_SECONDS * 4 < sweep.STALE_RUNNING.total_seconds()


def _new_lesson(settings: Settings) -> str:
    with session_scope(settings.database_url) as session:
        lesson = Lesson(source_key="lessons/y/source.mp4", title="Year 7 poetry")
        session.add(lesson)
        session.flush()
        return lesson.id


def test_a_lesson_whose_process_message_was_lost_is_started(settings: Settings) -> None:
    """The lesson row was committed but `lesson.process` never reached a worker."""
    db = settings.database_url
    lesson_id = _new_lesson(settings)
    recorder = Recorder()
    assert sweep.sweep(db, recorder.enqueue, recorder.queue_depth).restarted == []  # too fresh
    _age(settings, lesson_id, minutes=5)
    waiting = Recorder(depth=3)
    assert sweep.sweep(db, waiting.enqueue, waiting.queue_depth).restarted == []
    report = sweep.sweep(db, recorder.enqueue, recorder.queue_depth)
    assert report.restarted == [(lesson_id, "process")]
    assert recorder.sent == [(lesson_id, "probe")]
    assert _stage(settings, lesson_id, "probe").status == StageStatus.queued
    assert _stage(settings, lesson_id, "normalise").status == StageStatus.pending
    assert sweep.sweep(db, recorder.enqueue, recorder.queue_depth).restarted == []


def test_a_lesson_whose_retranscribe_message_was_lost_is_transcribed_again(
    settings: Settings, lesson_id: str
) -> None:
    """Every stage finished, then the API queued the lesson for re-transcription and the
    broker lost the message: only the transcription stages run again."""
    db = settings.database_url
    with session_scope(db) as session:
        session.execute(
            update(LessonStage)
            .where(LessonStage.lesson_id == lesson_id)
            .values(status=StageStatus.done, attempts=1)
        )
        session.execute(
            update(Lesson).where(Lesson.id == lesson_id).values(status=LessonStatus.queued)
        )
    _age(settings, lesson_id, minutes=5)
    recorder = Recorder()
    report = sweep.sweep(db, recorder.enqueue, recorder.queue_depth)
    assert report.restarted == [(lesson_id, "retranscribe")]
    assert recorder.sent == [(lesson_id, "audio")]
    assert _stage(settings, lesson_id, "transcribe").status == StageStatus.pending
    assert _stage(settings, lesson_id, "normalise").status == StageStatus.done
    again = sweep.sweep(db, recorder.enqueue, recorder.queue_depth)
    assert again.restarted == [] and recorder.sent == [(lesson_id, "audio")]


def test_a_ready_lesson_is_not_restarted(settings: Settings, lesson_id: str) -> None:
    db = settings.database_url
    with session_scope(db) as session:
        session.execute(
            update(LessonStage)
            .where(LessonStage.lesson_id == lesson_id)
            .values(status=StageStatus.done)
        )
        session.execute(
            update(Lesson).where(Lesson.id == lesson_id).values(status=LessonStatus.ready)
        )
    _age(settings, lesson_id, minutes=60)
    recorder = Recorder()
    assert sweep.sweep(db, recorder.enqueue, recorder.queue_depth).restarted == []
    assert recorder.sent == []


class BlankRecorder(Recorder):
    def __init__(self, depth: int = 0) -> None:
        super().__init__(depth)
        self.blanks: list[str] = []

    def send_blank(self, lesson_id: str) -> None:
        self.blanks.append(lesson_id)

    def sweep(self, settings: Settings) -> sweep.SweepReport:
        return sweep.sweep(
            settings.database_url, self.enqueue, self.queue_depth, send_blank=self.send_blank
        )


def _ready_lesson_with_blank(settings: Settings, minutes_ago: float, **blank: Any) -> str:
    with session_scope(settings.database_url) as session:
        lesson = Lesson(
            source_key="lessons/b/source.mp4",
            media_key="lessons/b/lesson.mp4",
            title="Year 8 poetry",
            status=LessonStatus.ready,
        )
        session.add(lesson)
        session.flush()
        made = utcnow() - timedelta(minutes=minutes_ago)
        session.add(LessonBlank(lesson_id=lesson.id, start=1.0, end=2.0, created_at=made, **blank))
        return lesson.id


def test_a_blank_whose_task_was_lost_is_sent_again_once(settings: Settings) -> None:
    lost = _ready_lesson_with_blank(settings, minutes_ago=5)
    fresh = _ready_lesson_with_blank(settings, minutes_ago=0.5)
    _ready_lesson_with_blank(settings, minutes_ago=60, status=BlankStatus.applied)
    recorder = BlankRecorder()

    report = recorder.sweep(settings)

    assert recorder.blanks == report.blanks_resent == [lost]
    assert recorder.sent == []
    assert recorder.sweep(settings).blanks_resent == []  # sent: not again every minute
    later = utcnow() + sweep.LOST_QUEUED + timedelta(seconds=5)
    again = sweep.sweep(
        settings.database_url, recorder.enqueue, recorder.queue_depth,
        send_blank=recorder.send_blank, now=later,
    )  # fmt: skip
    assert sorted(again.blanks_resent) == sorted([lost, fresh])  # still lost: sent once more
    with session_scope(settings.database_url) as session:  # the resent task claims it as usual
        job = blanks.claim(session, lost, "resent-run")
    assert job is not None and job.ranges == ((1.0, 2.0),)


def test_a_blank_task_waiting_behind_others_is_not_resent(settings: Settings) -> None:
    _ready_lesson_with_blank(settings, minutes_ago=30)
    recorder = BlankRecorder(depth=4)
    assert recorder.sweep(settings).blanks_resent == [] and recorder.blanks == []


def test_a_blank_whose_worker_died_mid_rewrite_is_sent_again_and_taken_back(
    settings: Settings,
) -> None:
    old = utcnow() - blanks.STALE_CLAIM - timedelta(minutes=1)
    dead = _ready_lesson_with_blank(
        settings, minutes_ago=300, status=BlankStatus.applying, claim="dead-run", claimed_at=old
    )
    _ready_lesson_with_blank(
        settings, minutes_ago=300, status=BlankStatus.applying, claim="live-run",
        claimed_at=utcnow() - timedelta(minutes=20),
    )  # fmt: skip
    recorder = BlankRecorder()
    assert recorder.sweep(settings).blanks_resent == [dead]
    with session_scope(settings.database_url) as session:
        job = blanks.claim(session, dead, "resent-run")
    assert job is not None
    assert recorder.sweep(settings).blanks_resent == []  # the new run's claim is live


def test_a_clip_render_retries_a_storage_outage_then_fails_with_the_reason(
    settings: Settings, eager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The render task backs off and tries again like the stage tasks (a store that is down,
    really unreachable on a closed loopback port), and gives up with the reason, not as a bug."""
    from models.coaching import Clip, RenderStatus
    from models.settings import get_settings
    from workers import clip_tasks, tasks

    monkeypatch.setenv("CLIPCOACH_STORAGE_URL", "s3://k:s@127.0.0.1:9/lessons?secure=false")
    get_settings.cache_clear()
    with session_scope(settings.database_url) as session:
        lesson = Lesson(
            source_key="lessons/x/source.mp4", media_key="lessons/x/media.mp4",
            title="Year 9 forces", status=LessonStatus.ready, has_video=True, has_audio=True,
        )  # fmt: skip
        session.add(lesson)
        session.flush()
        clip = Clip(lesson_id=lesson.id, title="Wait time", start=1.0, end=5.0)
        session.add(clip)
        session.flush()
        clip_id = clip.id
    result = clip_tasks.render_clip_task.apply(args=[clip_id])
    assert result.successful()  # gave up calmly: the failure is data on the clip
    with session_scope(settings.database_url) as session:
        after = session.get(Clip, clip_id)
        assert after is not None
        assert (after.render_status, after.render_error_code) == (
            RenderStatus.failed,
            "storage_unavailable",
        )
        assert after.render_error_message and "Try again later" in after.render_error_message
    assert clip_tasks.render_clip_task.max_retries == tasks.RETRY["max_retries"]
