"""People, their roles, who mentors whom, and tokens that were revoked before they expired."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, utcnow


class Role(enum.StrEnum):
    admin = "admin"
    coach = "coach"
    mentor = "mentor"
    ect = "ect"


def new_id() -> str:
    return uuid.uuid4().hex


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    """Signed into every token; bumped (models.accounts.end_sessions) to end them all."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    induction_start: Mapped[date | None]
    """An ECT's first day of induction, set by an admin: it sets the rhythm of observations
    (models.action_steps.next_observation_due)."""
    may_share_model_practice: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Set by an admin: a teacher who is not a mentor (a coach, an admin who teaches) may mark
    clips of their own lessons as model practice (models.model_practice); mentors always may,
    ECTs never."""


class Pairing(Base):
    """A mentor coaches an ECT: the mentor sees the ECT's lessons while the pairing exists."""

    __tablename__ = "pairings"
    __table_args__ = (UniqueConstraint("mentor_id", "ect_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    mentor_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ect_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RevokedToken(Base):
    """A signed token stays valid until it expires unless its id is listed here (logout)."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
