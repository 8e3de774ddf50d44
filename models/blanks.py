"""Blanked moments: a time range of a lesson (a pupil's face at close range, a name read out, a
disclosure) made black and silent in the stored lesson itself, with the words said in it removed
from every transcript, and likewise in every rendered clip covering it.

Marked by the lesson's owner, their mentor or an admin, and audited. A new blank is `pending`;
the blank worker (workers/blank_tasks.py) claims the lesson's pending blanks (`applying`),
rewrites the stored files over them, replacing the originals, and marks them `applied`, or
`failed` with a stable code (the lesson's files then stay as they were). Clips rendered over a
blank are black and silent there whatever its status, so nothing shared waits for the worker.

One worker at a time rewrites a lesson: a claim is refused while another run's claim on the same
lesson is younger than `STALE_CLAIM` (that run takes the newer blanks before it stops). A run
whose worker died is redelivered under the same task id, which may take its own claim back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text, and_, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from models.account import new_id
from models.db import Base, utcnow
from models.lesson import Lesson, LessonStatus

MIN_BLANK_SECONDS = 0.1
STALE_CLAIM = timedelta(hours=4)
"""Longer than any rewrite may run (the task's hard time limit is the stage timeout, 3 h, plus a
margin): a claim older than this belongs to a dead worker."""


class BlankStatus(enum.StrEnum):
    pending = "pending"
    """Black and silent in rendered clips; the stored lesson not yet rewritten."""
    applying = "applying"
    applied = "applied"
    """The stored lesson is black and silent there: it cannot be undone."""
    failed = "failed"
    """The stored lesson could not be rewritten (`error_code`); it stays as it was."""


IN_PROGRESS = (BlankStatus.pending, BlankStatus.applying)


class LessonBlank(Base):
    __tablename__ = "lesson_blanks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    start: Mapped[float]
    end: Mapped[float]
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[BlankStatus] = mapped_column(
        Enum(BlankStatus, native_enum=False, length=16, validate_strings=True),
        default=BlankStatus.pending,
        server_default=BlankStatus.pending.value,
    )
    applied_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    claim: Mapped[str | None] = mapped_column(String(64))
    """The task id of the worker run rewriting the lesson for this blank (while `applying`)."""
    claimed_at: Mapped[datetime | None]
    """When a run last claimed it, or (while `pending`) when the sweep last sent its task again."""


def lesson_blanks(session: Session, lesson_id: str) -> list[tuple[float, float]]:
    """The lesson's blanked ranges (lesson time), in order."""
    rows = session.execute(
        select(LessonBlank.start, LessonBlank.end)
        .where(LessonBlank.lesson_id == lesson_id)
        .order_by(LessonBlank.start, LessonBlank.end)
    ).all()
    return [(float(s), float(e)) for s, e in rows]


def overlaps(start: float, end: float, blank_start: float, blank_end: float) -> bool:
    return start < blank_end and end > blank_start


def in_progress(session: Session, lesson_id: str) -> bool:
    """Whether a blank of the lesson is waiting for or being written into its stored files
    (transcribing again meanwhile could bring back what it removes)."""
    return (
        session.scalar(
            select(LessonBlank.id)
            .where(LessonBlank.lesson_id == lesson_id, LessonBlank.status.in_(IN_PROGRESS))
            .limit(1)
        )
        is not None
    )


@dataclass(frozen=True)
class BlankClaim:
    """What one run of the blank worker rewrites: the lesson's keys and the claimed ranges."""

    lesson_id: str
    blank_ids: tuple[str, ...]
    ranges: tuple[tuple[float, float], ...]
    source_key: str
    media_key: str
    options: dict[str, Any]
    transcribe: bool


NOT_READY = (
    "lesson_not_ready",
    "The lesson was not ready (it was being processed again), so its stored recording was not "
    "blanked; clips over the moment are still black and silent. Remove this blank and add it "
    "again once the lesson is ready.",
)


def claim(session: Session, lesson_id: str, token: str) -> BlankClaim | None:
    """Claim the lesson's pending blanks (and any this run had claimed before) for `token`;
    None when there is nothing to do or another live run holds the lesson. The caller commits.

    The lesson row is locked first (PostgreSQL), and the claim is one conditional UPDATE (SQLite
    writes one at a time), so two runs never rewrite one lesson's files at once."""
    lesson = session.scalar(select(Lesson).where(Lesson.id == lesson_id).with_for_update())
    if lesson is None:
        return None
    stale = utcnow() - STALE_CLAIM
    other_live = session.scalar(
        select(LessonBlank.id)
        .where(
            LessonBlank.lesson_id == lesson_id,
            LessonBlank.status == BlankStatus.applying,
            LessonBlank.claim != token,
            LessonBlank.claimed_at > stale,
        )
        .limit(1)
    )
    if other_live is not None:
        return None
    mine = or_(
        LessonBlank.status == BlankStatus.pending,
        and_(
            LessonBlank.status == BlankStatus.applying,
            or_(LessonBlank.claim == token, LessonBlank.claimed_at <= stale),
        ),
    )
    if lesson.status != LessonStatus.ready or not lesson.media_key:
        code, message = NOT_READY
        session.execute(
            update(LessonBlank)
            .where(LessonBlank.lesson_id == lesson_id, mine)
            .values(status=BlankStatus.failed, error_code=code, error_message=message, claim=None)
        )
        return None
    session.execute(
        update(LessonBlank)
        .where(LessonBlank.lesson_id == lesson_id, mine)
        .values(status=BlankStatus.applying, claim=token, claimed_at=utcnow())
    )
    rows = session.execute(
        select(LessonBlank.id, LessonBlank.start, LessonBlank.end)
        .where(LessonBlank.claim == token, LessonBlank.status == BlankStatus.applying)
        .where(LessonBlank.lesson_id == lesson_id)
        .order_by(LessonBlank.start, LessonBlank.end)
    ).all()
    if not rows:
        return None
    return BlankClaim(
        lesson_id,
        tuple(r.id for r in rows),
        tuple((float(r.start), float(r.end)) for r in rows),
        lesson.source_key,
        lesson.media_key,
        dict(lesson.options or {}),
        lesson.transcribe,
    )


def finish(
    session: Session, blank_ids: tuple[str, ...], error: tuple[str, str] | None = None
) -> None:
    """Mark claimed blanks applied, or failed with (code, message); the caller commits."""
    values: dict[str, object] = {"claim": None}
    if error is None:
        values |= {"status": BlankStatus.applied, "applied_at": utcnow()}
        values |= {"error_code": None, "error_message": None}
    else:
        values |= {"status": BlankStatus.failed, "error_code": error[0]}
        values |= {"error_message": error[1]}
    session.execute(update(LessonBlank).where(LessonBlank.id.in_(blank_ids)).values(**values))


def lost(session: Session, quiet_since: datetime, now: datetime) -> list[str]:
    """Lessons whose blanks nobody is writing, so their task was lost (the broker dropped it, or
    its retries ran out): a blank still `pending` and untouched (made, released or last sent
    again) since `quiet_since`, or one `applying` under a claim older than STALE_CLAIM."""
    rows = session.scalars(
        select(LessonBlank.lesson_id)
        .where(or_(_waiting_since(quiet_since), _stuck_claim(now)))
        .distinct()
    )
    return sorted(rows)


def _waiting_since(quiet_since: datetime) -> ColumnElement[bool]:
    """Pending, and not made, released or sent again since `quiet_since`."""
    return and_(
        LessonBlank.status == BlankStatus.pending,
        or_(
            and_(LessonBlank.claimed_at.is_(None), LessonBlank.created_at <= quiet_since),
            LessonBlank.claimed_at <= quiet_since,
        ),
    )


def _stuck_claim(now: datetime) -> ColumnElement[bool]:
    """Applying under a claim older than any run lasts: its worker died."""
    return and_(
        LessonBlank.status == BlankStatus.applying,
        LessonBlank.claimed_at <= now - STALE_CLAIM,
    )


def mark_sent(session: Session, lesson_id: str, quiet_since: datetime, now: datetime) -> bool:
    """Stamp the lesson's lost blanks as sent again now, only if nobody touched them since the
    sweep looked (a worker claiming them wins); whether the task should be sent. A stale
    `applying` claim is left as it is, for the new run to take back. The caller commits."""
    stamped = session.execute(
        update(LessonBlank)
        .where(LessonBlank.lesson_id == lesson_id, _waiting_since(quiet_since))
        .values(claimed_at=now)
    )
    if stamped.rowcount:  # type: ignore[attr-defined]
        return True
    stuck = select(LessonBlank.id).where(LessonBlank.lesson_id == lesson_id, _stuck_claim(now))
    return session.scalar(stuck.limit(1)) is not None


def release(session: Session, blank_ids: tuple[str, ...]) -> None:
    """Hand claimed blanks back as pending (the run will be retried); the caller commits."""
    session.execute(
        update(LessonBlank)
        .where(LessonBlank.id.in_(blank_ids), LessonBlank.status == BlankStatus.applying)
        .values(status=BlankStatus.pending, claim=None)
    )
