"""Action steps: what an ECT works on next, set by their mentor after an observation.

A step is one short, concrete instruction linked to framework strands and to the clips that
prompted it, with a target date. It moves open -> practised (the ECT's note, perhaps a later clip
of their own as evidence) -> closed, or carried: carried forward, it ends and a copy of it opens
with a new target date (`carried_from_id`), so the record of what happened stays as it was.

The weekly rhythm of observations (weekly in induction year one, fortnightly in year two) is
`next_observation_due`, pure date arithmetic on the ECT's induction start.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Enum, ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.account import new_id
from models.db import Base, utcnow

MAX_INSTRUCTION = 500


class StepStatus(enum.StrEnum):
    open = "open"
    practised = "practised"
    closed = "closed"
    carried = "carried"


CURRENT = (StepStatus.open, StepStatus.practised)
"""States in which a step is still being worked on (the ECT's home page lists these)."""


class NotCurrentError(Exception):
    """The step was closed or carried forward: its record no longer changes."""


class ActionStep(Base):
    __tablename__ = "action_steps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    ect_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    set_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    instruction: Mapped[str] = mapped_column(Text)
    target_date: Mapped[date]
    status: Mapped[StepStatus] = mapped_column(
        Enum(StepStatus, native_enum=False, length=16), default=StepStatus.open, index=True
    )
    practice_note: Mapped[str] = mapped_column(Text, default="")
    practised_at: Mapped[datetime | None]
    evidence_clip_id: Mapped[str | None] = mapped_column(
        ForeignKey("clips.id", ondelete="SET NULL")
    )
    review_note: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    carried_from_id: Mapped[str | None] = mapped_column(
        ForeignKey("action_steps.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ActionStepStrand(Base):
    __tablename__ = "action_step_strands"

    step_id: Mapped[str] = mapped_column(
        ForeignKey("action_steps.id", ondelete="CASCADE"), primary_key=True
    )
    strand_id: Mapped[str] = mapped_column(
        ForeignKey("strands.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ActionStepClip(Base):
    """A clip that prompted the step."""

    __tablename__ = "action_step_clips"

    step_id: Mapped[str] = mapped_column(
        ForeignKey("action_steps.id", ondelete="CASCADE"), primary_key=True
    )
    clip_id: Mapped[str] = mapped_column(
        ForeignKey("clips.id", ondelete="CASCADE"), primary_key=True, index=True
    )


def require_current(step: ActionStep) -> None:
    if step.status not in CURRENT:
        raise NotCurrentError(f"This action step is {step.status.value}; it no longer changes.")


def mark_practised(step: ActionStep, note: str, evidence_clip_id: str | None) -> None:
    """The ECT says they practised it (again: the latest note and evidence stand)."""
    require_current(step)
    step.status = StepStatus.practised
    step.practice_note = note
    step.practised_at = utcnow()
    if evidence_clip_id is not None:
        step.evidence_clip_id = evidence_clip_id


def close(step: ActionStep, reviewer_id: str, note: str) -> None:
    require_current(step)
    step.status = StepStatus.closed
    step.review_note = note
    step.reviewed_at = utcnow()
    step.reviewed_by = reviewer_id


def carry(step: ActionStep, reviewer_id: str, note: str, target: date) -> ActionStep:
    """End `step` as carried forward and return its open copy, due on `target` (not added)."""
    require_current(step)
    step.status = StepStatus.carried
    step.review_note = note
    step.reviewed_at = utcnow()
    step.reviewed_by = reviewer_id
    return ActionStep(
        ect_id=step.ect_id,
        set_by=reviewer_id,
        instruction=step.instruction,
        target_date=target,
        status=StepStatus.open,
        carried_from_id=step.id,
    )


# the rhythm of observations

YEAR_ONE_INTERVAL = timedelta(days=7)
YEAR_TWO_INTERVAL = timedelta(days=14)


def _years_after(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


@dataclass(frozen=True)
class ObservationDue:
    induction_year: int | None
    """1 or 2 while in induction; None before it starts or after its two years."""
    interval_days: int | None
    due: date | None
    """The next observation: the last one plus the year's interval, or today if there was none
    (before the induction starts, its first day; after it ends, None)."""


def last_observation(session: Session, ect_id: str) -> date | None:
    """The day of the ECT's last observation: the day their latest action step was set."""
    latest = session.scalar(
        select(func.max(ActionStep.created_at)).where(ActionStep.ect_id == ect_id)
    )
    return latest.date() if latest else None


def next_observation_due(start: date | None, last: date | None, today: date) -> ObservationDue:
    """Weekly in the first year of induction, fortnightly in the second, from the last
    observation (`last`: the day the latest action step was set); None when `start` is not set."""
    if start is None:
        return ObservationDue(None, None, None)
    if today < start:
        return ObservationDue(None, None, start)
    if today >= _years_after(start, 2):
        return ObservationDue(None, None, None)
    year = 1 if today < _years_after(start, 1) else 2
    interval = YEAR_ONE_INTERVAL if year == 1 else YEAR_TWO_INTERVAL
    due = today if last is None or last < start else last + interval
    return ObservationDue(year, interval.days, due)
