"""Class lists: pupils' first names and nicknames, so transcripts and shared clips can leave them
out for readers outside the coaching pair (pipeline/pupilnames.py does the finding).

Two kinds of list apply to a lesson together:
    the school's list   kept by an admin (`owner_id` None), for every lesson
    a teacher's list    kept by the teacher who records (`owner_id` theirs), for their lessons
Only the list's keeper reads or changes it (an admin the school's, a teacher their own); the
names reach no one else, except as the names in the transcripts of lessons they may read in full
(the lesson's owner, a mentor paired with them). Changes are audited without the name.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import ForeignKey, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.account import new_id
from models.db import Base, utcnow
from models.lesson import Lesson

MAX_NAME_CHARS = 60
MAX_NAMES_PER_LIST = 500


class PupilName(Base):
    __tablename__ = "pupil_names"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    """The teacher whose list it is on; None: the school's list."""
    name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    folded: Mapped[str] = mapped_column(String(MAX_NAME_CHARS * 2))
    """The name compared case- and accent-blind, so one list holds it once."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def fold_name(name: str) -> str:
    plain = unicodedata.normalize("NFKD", " ".join(name.split()).casefold())
    return "".join(c for c in plain if not unicodedata.combining(c))


def list_of(session: Session, owner_id: str | None) -> list[PupilName]:
    """One list's names in alphabetical order (`owner_id` None: the school's)."""
    where = PupilName.owner_id.is_(None) if owner_id is None else PupilName.owner_id == owner_id
    return list(session.scalars(select(PupilName).where(where).order_by(PupilName.folded)))


def lesson_names(session: Session, lesson: Lesson) -> list[str]:
    """The names that apply to a lesson: the school's list and its owner's."""
    return list(
        session.scalars(
            select(PupilName.name).where(
                or_(PupilName.owner_id.is_(None), PupilName.owner_id == lesson.owner_id)
            )
        )
    )
