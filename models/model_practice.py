"""Model practice: clips of an experienced teacher's own lesson, shown to ECTs as an example.

The rule (docs/privacy.md, "Model practice"):
- Only the teacher who taught the lesson marks a clip of it as model practice (`ModelClip`, one
  row per clip, with who consented and when; audited `model.mark`). That mark is the owner's
  recorded consent to the clip being shown to ECTs other than through coaching: to the ECTs they
  share it with, to the members of an ECT group they share it with, and, if an admin publishes it,
  to everyone in the school's library. Unmarking withdraws the consent: every model share and the
  library entry end with it (`model.unmark`).
- Mentors may mark their own clips; other adults (coaches, admins who teach) only when an admin
  has switched on `User.may_share_model_practice` for them. An ECT's lesson is never model
  practice, whoever asks: the one way its clips reach another ECT would be this one, so the mark
  is refused (409 `model_ect_lesson`), and the access condition (`models.access.clip_filter`)
  also requires the lesson's owner not to be an ECT, should a role change later.
- Consent of the pupils is the lesson's (`Lesson.consent`) and applies as to any share: a
  lesson that may not be shared cannot be marked, shared or published, and a clip is rendered
  blurred, as sound only or plain exactly as for an ECT's shared clip.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.account import new_id
from models.db import Base, utcnow


class ModelClip(Base):
    """A clip its lesson's owner has marked model practice: their consent, recorded."""

    __tablename__ = "model_clips"

    clip_id: Mapped[str] = mapped_column(
        ForeignKey("clips.id", ondelete="CASCADE"), primary_key=True
    )
    consented_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    consented_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None]
    """In the school's library since (an admin published it); None: not in the library."""
    published_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class EctGroup(Base):
    """A named group of ECTs (a cohort, a subject team) that model clips are shared with."""

    __tablename__ = "ect_groups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EctGroupMember(Base):
    __tablename__ = "ect_group_members"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("ect_groups.id", ondelete="CASCADE"), primary_key=True
    )
    ect_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    """When the ECT joined: the group's model shares are news to them from then on
    (models.access.model_shares_to). None for members from before it was recorded (0018)."""


class ModelShare(Base):
    """A model clip shown to one ECT (`ect_id`) or to a group's members, whoever they are at the
    time (`group_id`); exactly one is set. Revoked, not deleted, unless the mark itself is
    withdrawn (the audit keeps the fact)."""

    __tablename__ = "model_shares"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    clip_id: Mapped[str] = mapped_column(
        ForeignKey("model_clips.clip_id", ondelete="CASCADE"), index=True
    )
    ect_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[str | None] = mapped_column(
        ForeignKey("ect_groups.id", ondelete="CASCADE"), index=True
    )
    shared_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
