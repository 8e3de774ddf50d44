"""The sweep: reconcile the status rows with reality when a worker or the broker lost a stage.

The status rows are the truth about what should be happening; the broker only carries messages.
Two things can break the link, and the sweep (task `clipcoach.sweep`, sent by the beat scheduler
every `sweep_interval_seconds`, a minute by default) repairs both:

- A worker died mid-stage (SIGKILL, out of memory, host lost): its stage is `running` but its
  heartbeat (every HEARTBEAT_SECONDS while a stage runs) has stopped. Celery would redeliver the
  unacked message only after Redis's visibility timeout (hours); the sweep requeues the stage
  after STALE_RUNNING instead, up to MAX_ATTEMPTS attempts, then fails the lesson with
  `stage_stalled` and a message saying so.
- The broker lost a message (Redis restarted without persistence): the stage is `queued` but its
  queue is empty and nothing has touched the lesson for LOST_QUEUED. The sweep sends it again.
  A queued stage whose queue still holds messages is only waiting its turn and is left alone,
  however long the batch.
- A stage is still `pending` although everything it waits for has finished, and the lesson has
  not changed for LOST_QUEUED (a join nobody claimed; `status.finish_stage` locks the lesson
  row so this should not happen, the sweep is the safety net). It is claimed and sent.
- The broker lost a lesson's own message: the lesson is `queued` and untouched for LOST_QUEUED,
  the media queue is empty, and either it has no stage rows (`clipcoach.lesson.process` never
  arrived) or all of them are finished (`clipcoach.lesson.retranscribe` never arrived). The
  sweep does what the lost task would have done (`status.start_lesson` or
  `status.restart_stages`) and sends the stages that become ready.

- The broker lost a blank's message (`clipcoach.lesson.blank`), or its retries ran out: a
  blanked moment is still `pending` LOST_QUEUED after it was made (or last sent), or `applying`
  under a claim older than `models.blanks.STALE_CLAIM`, and the media queue is empty. The sweep
  sends the lesson's blank task again; its claim is idempotent, so a duplicate does nothing.

Every change is a conditional UPDATE on the state the sweep saw, so a worker that wakes up in
between wins and the sweep does nothing. A duplicate delivery is harmless: stages are idempotent
and `status.begin_stage` ignores a finished stage.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from models import blanks
from models.db import session_scope, utcnow
from models.lesson import Lesson, LessonStage, LessonStatus, StageStatus
from models.queue import MEDIA_QUEUE
from pipeline.lesson import STAGES, TRANSCRIPTION_STAGES, ready_stages
from workers import status

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30.0
STALE_RUNNING = timedelta(minutes=10)
"""Longer than the stage tasks' longest retry backoff (5 min), during which no heartbeat runs."""
LOST_QUEUED = timedelta(minutes=2)
MAX_ATTEMPTS = 3
STALLED_CODE = "stage_stalled"
STALLED_MESSAGE = (
    "Processing stopped at the {stage} step {attempts} times without finishing (the worker "
    "running it was lost). Try again; if it keeps happening, tell your administrator."
)

Enqueue = Callable[[str, str], None]
QueueDepth = Callable[[str], int]
"""Messages waiting in a broker queue, by queue name."""


def heartbeat(db_url: str, lesson_id: str, stage: str) -> None:
    """Say that `stage` of `lesson_id` is still being worked on."""
    with session_scope(db_url) as session:
        session.execute(
            update(LessonStage)
            .where(
                LessonStage.lesson_id == lesson_id,
                LessonStage.name == stage,
                LessonStage.status == StageStatus.running,
            )
            .values(heartbeat_at=utcnow())
        )


class Heartbeat:
    """A daemon thread beating for one running stage; a missed beat (database down) is logged
    and tried again, it never fails the stage."""

    def __init__(
        self, db_url: str, lesson_id: str, stage: str, interval: float = HEARTBEAT_SECONDS
    ) -> None:
        self._args = (db_url, lesson_id, stage)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{lesson_id}-{stage}", daemon=True
        )

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                heartbeat(*self._args)
            except SQLAlchemyError as exc:
                log.warning(
                    "lesson %s: heartbeat of %s missed: %s", self._args[1], self._args[2], exc
                )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 5)


@dataclass
class SweepReport:
    requeued: list[tuple[str, str]] = field(default_factory=list)
    resent: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    unblocked: list[tuple[str, str]] = field(default_factory=list)
    restarted: list[tuple[str, str]] = field(default_factory=list)
    """(lesson id, "process" or "retranscribe") whose lesson-level message was lost."""
    blanks_resent: list[str] = field(default_factory=list)
    """Lessons whose blank task was sent again."""


def _aware(moment: datetime | None) -> datetime:
    """A stored time (UTC, aware: models.db.UTCDateTime), or the earliest time for none."""
    return datetime.min.replace(tzinfo=UTC) if moment is None else moment


def sweep(
    db_url: str,
    enqueue: Enqueue,
    queue_depth: QueueDepth,
    *,
    stale_running: timedelta = STALE_RUNNING,
    lost_queued: timedelta = LOST_QUEUED,
    max_attempts: int = MAX_ATTEMPTS,
    now: datetime | None = None,
    send_blank: Callable[[str], None] | None = None,
) -> SweepReport:
    """Requeue or fail the stages of active lessons that nobody is working on; with
    `send_blank`, send again the blank tasks of lessons whose blanks nobody is writing."""
    now = now or utcnow()
    report = SweepReport()
    with session_scope(db_url) as session:
        rows = session.execute(
            select(LessonStage, Lesson)
            .join(Lesson, Lesson.id == LessonStage.lesson_id)
            .where(Lesson.status.in_([LessonStatus.queued, LessonStatus.processing]))
        ).all()
        candidates = [
            (row.lesson_id, row.name, row.status, row.heartbeat_at, row.attempts, lesson.updated_at)
            for row, lesson in rows
            if row.status in (StageStatus.running, StageStatus.queued)
        ]
        by_lesson: dict[str, dict[str, StageStatus]] = {}
        touched_at: dict[str, datetime] = {}
        for row, lesson in rows:
            by_lesson.setdefault(row.lesson_id, {})[row.name] = row.status
            touched_at[row.lesson_id] = _aware(lesson.updated_at)

    depths: dict[str, int] = {}
    for lesson_id, name, state, beat, attempts, touched in candidates:
        if name not in STAGES:
            continue
        if state == StageStatus.running:
            if now - _aware(beat) < stale_running:
                continue
            if attempts >= max_attempts:
                message = STALLED_MESSAGE.format(stage=name, attempts=attempts)
                log.warning(
                    "lesson %s: stage %s stalled %d times: failing", lesson_id, name, attempts
                )
                status.fail_stage(db_url, lesson_id, name, STALLED_CODE, message)
                report.failed.append((lesson_id, name))
            elif _claim(db_url, lesson_id, name, StageStatus.running, beat, now):
                log.warning("lesson %s: stage %s lost its worker: requeued", lesson_id, name)
                enqueue(lesson_id, name)
                report.requeued.append((lesson_id, name))
        else:
            since = max(_aware(beat), _aware(touched))
            if now - since < lost_queued:
                continue
            queue = STAGES[name].queue
            if queue not in depths:
                depths[queue] = queue_depth(queue)
            if depths[queue] > 0:
                continue  # waiting its turn behind other lessons
            if _claim(db_url, lesson_id, name, StageStatus.queued, beat, now):
                log.warning("lesson %s: stage %s lost its message: sent again", lesson_id, name)
                enqueue(lesson_id, name)
                report.resent.append((lesson_id, name))

    for lesson_id, stages in by_lesson.items():
        if now - touched_at[lesson_id] < lost_queued:
            continue
        finished = {n for n, st in stages.items() if st in (StageStatus.done, StageStatus.skipped)}
        started = {n for n, st in stages.items() if st != StageStatus.pending}
        for name in ready_stages(finished, started):
            if name in stages and _claim(db_url, lesson_id, name, StageStatus.pending, None, now):
                log.warning("lesson %s: stage %s was never claimed: sent", lesson_id, name)
                enqueue(lesson_id, name)
                report.unblocked.append((lesson_id, name))

    _restart_lost_lessons(db_url, enqueue, queue_depth, depths, by_lesson, lost_queued, now, report)
    if send_blank is not None:
        _resend_lost_blanks(db_url, send_blank, queue_depth, depths, lost_queued, now, report)
    return report


def _resend_lost_blanks(
    db_url: str,
    send_blank: Callable[[str], None],
    queue_depth: QueueDepth,
    depths: dict[str, int],
    lost_queued: timedelta,
    now: datetime,
    report: SweepReport,
) -> None:
    """Send the blank task again for lessons whose blanks wait with nobody writing them."""
    quiet_since = now - lost_queued
    with session_scope(db_url) as session:
        waiting = blanks.lost(session, quiet_since, now)
    if not waiting:
        return
    if MEDIA_QUEUE not in depths:
        depths[MEDIA_QUEUE] = queue_depth(MEDIA_QUEUE)
    if depths[MEDIA_QUEUE] > 0:
        return  # the blank task may be waiting its turn there
    for lesson_id in waiting:
        with session_scope(db_url) as session:
            send = blanks.mark_sent(session, lesson_id, quiet_since, now)
        if send:
            log.warning("lesson %s: its blank task was lost: sent again", lesson_id)
            send_blank(lesson_id)
            report.blanks_resent.append(lesson_id)


def _restart_lost_lessons(
    db_url: str,
    enqueue: Enqueue,
    queue_depth: QueueDepth,
    depths: dict[str, int],
    by_lesson: dict[str, dict[str, StageStatus]],
    lost_queued: timedelta,
    now: datetime,
    report: SweepReport,
) -> None:
    """Redo the work of a lost `lesson.process` or `lesson.retranscribe` message."""
    finished = (StageStatus.done, StageStatus.skipped)
    with session_scope(db_url) as session:
        waiting = session.execute(
            select(Lesson.id, Lesson.updated_at).where(Lesson.status == LessonStatus.queued)
        ).all()
    for lesson_id, seen in waiting:
        if now - _aware(seen) < lost_queued:
            continue
        stages = by_lesson.get(lesson_id, {})
        if not stages:
            kind = "process"
        elif all(state in finished for state in stages.values()):
            kind = "retranscribe"
        else:
            continue  # stages are queued or pending: the loops above look after those
        if MEDIA_QUEUE not in depths:
            depths[MEDIA_QUEUE] = queue_depth(MEDIA_QUEUE)
        if depths[MEDIA_QUEUE] > 0:
            continue  # its message may still be waiting its turn
        if not _touch(db_url, lesson_id, seen, now):
            continue  # a worker got to it first
        if kind == "process":
            claimed = status.start_lesson(db_url, lesson_id)
        else:
            claimed = status.restart_stages(db_url, lesson_id, TRANSCRIPTION_STAGES)
        log.warning("lesson %s: its %s message was lost: sending %s", lesson_id, kind, claimed)
        for name in claimed:
            enqueue(lesson_id, name)
        report.restarted.append((lesson_id, kind))


def _touch(db_url: str, lesson_id: str, seen: datetime, now: datetime) -> bool:
    """Stamp a queued lesson as handled now, only if nobody changed it since the sweep read it."""
    with session_scope(db_url) as session:
        result = session.execute(
            update(Lesson)
            .where(
                Lesson.id == lesson_id,
                Lesson.status == LessonStatus.queued,
                Lesson.updated_at == seen,
            )
            .values(updated_at=now)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _claim(
    db_url: str,
    lesson_id: str,
    name: str,
    seen: StageStatus,
    beat: datetime | None,
    now: datetime,
) -> bool:
    """Move the stage to `queued` (stamped now) only if it is still as the sweep saw it
    (for a pending stage the status alone: its heartbeat may be left from a reprocessing)."""
    with session_scope(db_url) as session:
        where = [
            LessonStage.lesson_id == lesson_id,
            LessonStage.name == name,
            LessonStage.status == seen,
        ]
        if seen != StageStatus.pending:
            where.append(
                LessonStage.heartbeat_at.is_(None)
                if beat is None
                else LessonStage.heartbeat_at == beat
            )
        result = session.execute(
            update(LessonStage).where(*where).values(status=StageStatus.queued, heartbeat_at=now)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
