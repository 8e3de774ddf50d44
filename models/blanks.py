"""Blanked moments: a time range of a lesson (a pupil's face at close range, a name read out, a
disclosure) that every rendered clip covering it shows as black picture and silence, with the
words said in it left out of the clip's captions.

Marked by the lesson's owner, their mentor or an admin, and audited. The lesson's own recording
stays as it is for its owner and mentor; the rule is for rendered clips, which are what is shared.
A change throws away the renders of the clips it touches, so the next request makes them again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.account import new_id
from models.db import Base, utcnow

MIN_BLANK_SECONDS = 0.1


class LessonBlank(Base):
    __tablename__ = "lesson_blanks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    start: Mapped[float]
    end: Mapped[float]
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
