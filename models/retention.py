"""Retention: when a lesson's recording and everything made from it are deleted, and deleting it.

The school sets one period (`retention_days` in settings; 0 keeps lessons until someone deletes
them). A lesson is deleted that many days after upload, or on its "keep until" date when that is
later: its owner may push the date out by at most `retention_owner_extend_days` past the school's
date, an admin up to `retention_max_days` after upload; both are audited. For the last
`retention_warning_days` before the date its owner and mentor are told it is coming.

Deleting a lesson (by retention, by its owner or an admin, or when a person is erased) goes
through `delete_lesson` only: the rows (clips, tags, comments, shares, transcript versions by
cascade), the search index, every stored file under the lesson's prefix (source, browser copy,
transcripts, pictures, rendered clips), then a tombstone saying that a lesson existed, whose it
was and when and why it went, and an audit event; never its title or content.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models import audit
from models.db import Base, utcnow
from models.lesson import Lesson, lesson_prefix
from models.storage import Storage


class DeletionReason(enum.StrEnum):
    retention = "retention"  # the school's retention period ran out
    deleted = "deleted"  # its owner or an admin deleted it
    erasure = "erasure"  # its owner's data was erased


class LessonTombstone(Base):
    """What is kept of a deleted lesson: that it existed, whose it was, when it went and why."""

    __tablename__ = "lesson_tombstones"

    lesson_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    uploaded_at: Mapped[datetime]
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    deleted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(16))


@dataclass(frozen=True)
class Policy:
    """The school's retention settings (models.settings), as numbers of days."""

    days: int
    warning_days: int = 14
    owner_extend_days: int = 30
    max_days: int = 730


def school_policy() -> Policy:
    """The policy in the process's settings."""
    from models.settings import get_settings

    settings = get_settings()
    return Policy(
        days=settings.retention_days,
        warning_days=settings.retention_warning_days,
        owner_extend_days=settings.retention_owner_extend_days,
        max_days=settings.retention_max_days,
    )


def deletes_on(
    created_at: datetime, keep_until: datetime | None, policy: Policy
) -> datetime | None:
    """When a lesson uploaded at `created_at` is deleted; None while the school keeps lessons."""
    if policy.days <= 0:
        return None
    due = created_at + timedelta(days=policy.days)
    return max(due, keep_until) if keep_until is not None else due


def in_warning(when: datetime | None, policy: Policy, now: datetime) -> bool:
    """Whether the owner and mentor should be told the lesson is going soon."""
    return when is not None and when - now <= timedelta(days=policy.warning_days)


class KeepUntilError(ValueError):
    """A "keep until" date outside what the policy allows (422 or 409 with `code`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_keep_until(
    created_at: datetime, until: datetime, policy: Policy, *, admin: bool, now: datetime
) -> None:
    """Raise KeepUntilError unless `until` is a date this person may keep the lesson to."""
    if policy.days <= 0:
        raise KeepUntilError(
            "retention_off", "The school keeps lessons until they are deleted; no date is needed."
        )
    if until <= now:
        raise KeepUntilError("keep_until_past", "The date to keep the lesson until has passed.")
    school = created_at + timedelta(days=policy.days)
    if admin:
        limit, who = created_at + timedelta(days=policy.max_days), "an administrator"
        span = f"{policy.max_days} days after upload"
    else:
        limit, who = school + timedelta(days=policy.owner_extend_days), "the lesson's owner"
        span = f"{policy.owner_extend_days} days past the school's date"
    if until > limit:
        raise KeepUntilError(
            "keep_until_too_late",
            f"That is later than {who} may keep a lesson: at most {span} "
            f"({limit.date().isoformat()}).",
        )


def expired(session: Session, policy: Policy, now: datetime) -> list[str]:
    """Ids of lessons whose date has come, oldest first."""
    if policy.days <= 0:
        return []
    cutoff = now - timedelta(days=policy.days)
    rows = session.execute(
        select(Lesson.id, Lesson.created_at, Lesson.keep_until)
        .where(Lesson.created_at <= cutoff)
        .order_by(Lesson.created_at)
    ).all()
    return [
        lesson_id
        for lesson_id, created, keep in rows
        if (when := deletes_on(created, keep, policy)) is not None and when <= now
    ]


def delete_lesson(
    session: Session,
    storage: Storage,
    lesson: Lesson,
    *,
    actor_id: str | None,
    reason: DeletionReason,
    client: str = "",
) -> None:
    """Delete `lesson` completely (rows, search index, stored files) and commit, keeping a
    tombstone and an audit event. The files go after the commit: a failed commit loses nothing,
    and files left by a failed delete are under a prefix no row names (deleted again on retry)."""
    from models import search  # the index's after-delete listener, and `forget` for the record

    lesson_id = lesson.id
    session.merge(
        LessonTombstone(
            lesson_id=lesson_id,
            owner_id=lesson.owner_id,
            uploaded_at=lesson.created_at,
            deleted_at=utcnow(),
            deleted_by=actor_id,
            reason=reason.value,
        )
    )
    search.forget(session, lesson_id)
    session.delete(lesson)
    action = {
        DeletionReason.retention: "lesson.expire",
        DeletionReason.deleted: "lesson.delete",
        DeletionReason.erasure: "lesson.erase",
    }[reason]
    audit.record(session, actor_id, action, "lesson", lesson_id, client=client, reason=reason.value)
    session.commit()
    storage.delete_prefix(lesson_prefix(lesson_id))


def purge_expired(
    db_url: str, storage: Storage, policy: Policy, now: datetime | None = None
) -> list[str]:
    """Delete every lesson past its date, one transaction each; return their ids. A lesson
    whose date was moved (or that was deleted) since it was listed is left to its new fate."""
    from models.db import session_scope

    now = now or utcnow()
    with session_scope(db_url) as session:
        due = expired(session, policy, now)
    done = []
    for lesson_id in due:
        with session_scope(db_url) as session:
            lesson = session.get(Lesson, lesson_id, with_for_update=True)
            if lesson is None:
                continue
            when = deletes_on(lesson.created_at, lesson.keep_until, policy)
            if when is None or when > now:
                continue
            delete_lesson(session, storage, lesson, actor_id=None, reason=DeletionReason.retention)
            done.append(lesson_id)
    return done
