"""The audit trail: who viewed, downloaded, shared or revoked what, and when.

Rows are only ever added. Recording an event is part of the same transaction as the action it
describes, so an action that rolls back leaves no event and an event never describes nothing.
Events name things by id, so they keep the fact of what happened after the thing is deleted.
Two kinds of event also hold words, and deletion takes those words out, leaving the event:
the query of a search (`forget_search_words`, when a lesson it found loses its transcript) and
the email a failed sign-in tried (`forget_email`, when that person is erased).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, String, cast, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.db import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


def record(
    session: Session,
    actor_id: str | None,
    action: str,
    object_type: str,
    object_id: str,
    *,
    client: str = "",
    **detail: Any,
) -> None:
    """Add an event to `session`; it is written when the caller commits."""
    session.add(
        AuditEvent(
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            client=client[:64],
            detail=detail,
        )
    )


VIEW_WINDOW = timedelta(minutes=30)
"""Repeat views of one thing by one person within this time are one view: a page left open
renews its media link every few minutes and the player starts reading again from byte 0."""


def record_view(
    session: Session,
    actor_id: str | None,
    action: str,
    object_type: str,
    object_id: str,
    *,
    client: str = "",
    window: timedelta = VIEW_WINDOW,
) -> bool:
    """Record a view unless the same person's same view of it is already in the last `window`;
    say whether it was recorded."""
    since = utcnow() - window
    earlier = session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.object_id == object_id,
            AuditEvent.action == action,
            AuditEvent.actor_id == actor_id if actor_id else AuditEvent.actor_id.is_(None),
            AuditEvent.at >= since,
        )
        .limit(1)
    )
    if earlier is not None:
        return False
    record(session, actor_id, action, object_type, object_id, client=client)
    return True


SEARCH = "transcript.search"
FAILED_SIGN_IN = "auth.failed"


def forget_search_words(session: Session, lesson_id: str) -> None:
    """Take the query out of the search events that showed `lesson_id`'s words (its transcript or
    the lesson is being deleted): the words searched for may be that lesson's (a pupil's name)."""
    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == SEARCH, cast(AuditEvent.detail, String).contains(lesson_id)
        )
    )
    for event in events:
        if lesson_id in (event.detail or {}).get("lessons", []) and "query" in event.detail:
            event.detail = {k: v for k, v in event.detail.items() if k != "query"} | {
                "query_removed": True
            }


def forget_email(session: Session, email: str, instead: str) -> None:
    """Failed sign-ins name the account they tried by email: name the erased one by `instead`."""
    session.execute(
        update(AuditEvent)
        .where(
            AuditEvent.action == FAILED_SIGN_IN,
            func.lower(AuditEvent.object_id) == email[:64].lower(),
        )
        .values(object_id=instead[:64])
    )
