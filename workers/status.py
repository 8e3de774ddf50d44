"""Lesson and stage status transitions while processing runs. Two writers live elsewhere: the
API's retry resets a failed lesson to queued (api.services.lessons) and the sweep requeues a
stalled stage (workers.sweep).

A stage row moves pending -> queued -> running -> done | skipped | failed. Claiming a stage for the
queue is a conditional UPDATE, so when two parallel branches finish at once only one of them
enqueues the stage that waits for both.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.db import session_scope, utcnow
from models.lesson import Lesson, LessonStage, LessonStatus, StageStatus
from models.pupilnames import lesson_names
from pipeline.lesson import STAGES, StageOutcome, ready_stages

log = logging.getLogger(__name__)

FINISHED = (StageStatus.done, StageStatus.skipped)
ACTIVE = (StageStatus.queued, StageStatus.running)


@dataclass(frozen=True)
class StageContext:
    """What a task needs to know about its lesson, read once at the start."""

    lesson_id: str
    source_key: str
    media_key: str | None
    options: dict[str, Any]
    transcribe: bool
    pupil_names: tuple[str, ...] = ()
    """The class lists' names that apply to the lesson (hotwords for its transcription)."""


def _stage_rows(session: Session, lesson_id: str) -> dict[str, LessonStage]:
    rows = session.scalars(select(LessonStage).where(LessonStage.lesson_id == lesson_id)).all()
    return {row.name: row for row in rows}


def start_lesson(db_url: str, lesson_id: str) -> list[str]:
    """Create the stage rows of a new (or reprocessed) lesson and claim its first stages."""
    with session_scope(db_url) as session:
        lesson = session.get(Lesson, lesson_id)
        if lesson is None:
            return []
        rows = _stage_rows(session, lesson_id)
        for name in STAGES:
            if name not in rows:
                session.add(LessonStage(lesson_id=lesson_id, name=name))
            else:
                row = rows[name]
                row.status, row.progress, row.error_code, row.error_message = (
                    StageStatus.pending,
                    0.0,
                    None,
                    None,
                )
        lesson.status, lesson.stage, lesson.progress = LessonStatus.queued, None, 0
        lesson.error_code = lesson.error_message = None
        session.flush()
        return _claim_ready(session, lesson_id)


def restart_stages(db_url: str, lesson_id: str, names: Iterable[str]) -> list[str]:
    """Run some stages of a finished lesson again (e.g. transcription with other settings).

    The named stages go back to pending and the ones whose prerequisites are finished are
    claimed; every other stage keeps its row (attempts, times, result) untouched. Nothing is
    done (and [] returned) if a stage outside `names` is unfinished (the lesson is still being
    processed, or failed before the restarted stages could run), or if a named stage is queued
    or running (this restart is already under way: a redelivered or resent message).
    """
    names = set(names)
    with session_scope(db_url) as session:
        lesson = session.get(Lesson, lesson_id, with_for_update=True)
        if lesson is None:
            return []
        rows = _stage_rows(session, lesson_id)
        kept = [name for name in STAGES if name not in names]
        if any(name not in rows or rows[name].status not in FINISHED for name in kept):
            log.warning(
                "lesson %s: cannot restart %s before the rest has finished", lesson_id, names
            )
            return []
        if any(rows[n].status in ACTIVE for n in names if n in rows):
            log.info("lesson %s: %s already restarted (a repeated message)", lesson_id, names)
            return []
        for name in names:
            row = rows.get(name)
            if row is None:
                session.add(LessonStage(lesson_id=lesson_id, name=name))
                continue
            row.status, row.progress, row.error_code, row.error_message = (
                StageStatus.pending,
                0.0,
                None,
                None,
            )
        lesson.status, lesson.stage = LessonStatus.queued, None
        lesson.error_code = lesson.error_message = None
        session.flush()
        claimed = _claim_ready(session, lesson_id)
        _update_progress(session, lesson)
        return claimed


def _claim_ready(session: Session, lesson_id: str) -> list[str]:
    rows = _stage_rows(session, lesson_id)
    finished = {name for name, row in rows.items() if row.status in FINISHED}
    started = {name for name, row in rows.items() if row.status != StageStatus.pending}
    claimed = []
    for name in ready_stages(finished, started):
        result = session.execute(
            update(LessonStage)
            .where(
                LessonStage.lesson_id == lesson_id,
                LessonStage.name == name,
                LessonStage.status == StageStatus.pending,
            )
            .values(status=StageStatus.queued)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(name)
    return claimed


def begin_stage(db_url: str, lesson_id: str, name: str) -> StageContext | None:
    """Mark a stage running; None if there is nothing to do (lesson gone or failed, stage done)."""
    with session_scope(db_url) as session:
        lesson = session.get(Lesson, lesson_id)
        if lesson is None or lesson.status == LessonStatus.failed:
            return None
        row = _stage_rows(session, lesson_id).get(name)
        if row is None or row.status in FINISHED:
            return None
        row.status = StageStatus.running
        row.attempts += 1
        row.started_at = row.heartbeat_at = utcnow()
        row.progress = 0.0
        lesson.status = LessonStatus.processing
        lesson.stage = name
        _update_progress(session, lesson)
        return StageContext(
            lesson_id=lesson.id,
            source_key=lesson.source_key,
            media_key=lesson.media_key,
            options=dict(lesson.options or {}),
            transcribe=lesson.transcribe,
            pupil_names=tuple(sorted(lesson_names(session, lesson))),
        )


def report_progress(db_url: str, lesson_id: str, name: str, fraction: float) -> None:
    with session_scope(db_url) as session:
        session.execute(
            update(LessonStage)
            .where(LessonStage.lesson_id == lesson_id, LessonStage.name == name)
            .values(progress=max(0.0, min(1.0, fraction)), heartbeat_at=utcnow())
        )
        lesson = session.get(Lesson, lesson_id)
        if lesson is not None:
            _update_progress(session, lesson)


def _update_progress(session: Session, lesson: Lesson) -> None:
    """Overall progress: each stage's share of the work, weighted by its typical cost."""
    rows = _stage_rows(session, lesson.id)
    total = sum(spec.weight for spec in STAGES.values())
    done = 0.0
    for name, spec in STAGES.items():
        row = rows.get(name)
        if row is None:
            continue
        if row.status in FINISHED:
            done += spec.weight
        elif row.status == StageStatus.running:
            done += spec.weight * row.progress
    lesson.progress = (
        min(99, int(100 * done / total)) if lesson.status != LessonStatus.ready else 100
    )


def finish_stage(db_url: str, lesson_id: str, name: str, outcome: StageOutcome) -> list[str]:
    """Record a finished stage and its facts; return the stages it makes ready (to enqueue)."""
    with session_scope(db_url) as session:
        # Lock the lesson row: on PostgreSQL two branches finishing at once would otherwise each
        # see the other still running, and neither would claim the stage that joins them.
        lesson = session.get(Lesson, lesson_id, with_for_update=True)
        if lesson is None:
            return []
        row = _stage_rows(session, lesson_id)[name]
        row.status = StageStatus.skipped if outcome.skipped else StageStatus.done
        row.progress = 1.0
        row.finished_at = utcnow()
        row.result = {"outputs": outcome.outputs, "skipped": outcome.skipped, **outcome.facts}
        _apply_facts(lesson, name, outcome)
        if lesson.status == LessonStatus.failed:
            return []
        session.flush()
        claimed = _claim_ready(session, lesson_id)
        rows = _stage_rows(session, lesson_id)
        if all(r.status in FINISHED for r in rows.values()):
            lesson.status = LessonStatus.ready
            lesson.stage = None
            lesson.ready_at = utcnow()
        _update_progress(session, lesson)
        return claimed


def _apply_facts(lesson: Lesson, name: str, outcome: StageOutcome) -> None:
    facts = outcome.facts
    if "duration" in facts:
        lesson.duration = facts["duration"]
    if "has_video" in facts:
        lesson.has_video = facts["has_video"]
    if "has_audio" in facts:
        lesson.has_audio = facts["has_audio"]
    if "media" in facts:
        lesson.media_key = lesson.artefact_key(facts["media"])
    notes = list(outcome.warnings)
    if outcome.skipped and name in ("audio", "transcribe"):
        notes.append(outcome.skipped)
    if notes:
        lesson.warnings = _unique([*(lesson.warnings or []), *notes])


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def fail_stage(db_url: str, lesson_id: str, name: str, code: str, message: str) -> None:
    """A stage failed for good: the lesson shows the code and a message a teacher can act on."""
    with session_scope(db_url) as session:
        lesson = session.get(Lesson, lesson_id)
        if lesson is None:
            return
        row = _stage_rows(session, lesson_id).get(name)
        if row is not None:
            row.status = StageStatus.failed
            row.finished_at = utcnow()
            row.error_code, row.error_message = code, message
        lesson.status = LessonStatus.failed
        lesson.stage = name
        lesson.error_code, lesson.error_message = code, message
