"""Retention: when a lesson's recording, its transcripts and its shares are deleted, and
deleting them.

The school sets three periods (settings; 0 keeps things until someone deletes them):
- `retention_days`: a lesson is deleted that many days after upload, or on its "keep until"
  date when that is later: its owner may push the date out by at most
  `retention_owner_extend_days` past the school's date, an admin up to `retention_max_days` after
  upload; both are audited. For the last `retention_warning_days` before the date its owner and
  mentor are told it is coming.
- `retention_transcript_days`: a lesson's transcripts (every version, the search index, talk
  analytics and candidate clips made from the words, rendered clips' captions) are deleted that
  many days after upload, or on the lesson's `transcript_keep_until` when later (an admin's
  decision, audited, at most `retention_max_days` after upload); the recording and the coaching
  stay.
- `retention_share_days`: a share of a clip is deleted (the row, so the recipient's access, and
  the rendered file unless another live share still needs it) that many days after it was made,
  or as soon as it ends (its own date passed, or revoked), whichever comes first.

Deleting a lesson (by retention, by its owner or an admin, or when a person is erased) goes
through `delete_lesson` only: the rows (clips, tags, comments, shares, transcript versions by
cascade), the search index, every stored file under the lesson's prefix (source, browser copy,
transcripts, pictures, rendered clips), then a tombstone saying that a lesson existed, whose it
was and when and why it went, and an audit event; never its title or content. Deleting
transcripts or a share leaves an audit event naming ids only.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ForeignKey, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models import audit
from models.coaching import Clip, Comment, Share, forget_render
from models.db import Base, utcnow
from models.lesson import Lesson, LessonStatus, lesson_prefix
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
    transcript_days: int = 0
    share_days: int = 0


def school_policy() -> Policy:
    """The policy in the process's settings."""
    from models.settings import get_settings

    settings = get_settings()
    return Policy(
        days=settings.retention_days,
        warning_days=settings.retention_warning_days,
        owner_extend_days=settings.retention_owner_extend_days,
        max_days=settings.retention_max_days,
        transcript_days=settings.retention_transcript_days,
        share_days=settings.retention_share_days,
    )


def deletes_on(
    created_at: datetime, keep_until: datetime | None, policy: Policy
) -> datetime | None:
    """When a lesson uploaded at `created_at` is deleted; None while the school keeps lessons."""
    if policy.days <= 0:
        return None
    due = created_at + timedelta(days=policy.days)
    return max(due, keep_until) if keep_until is not None else due


def transcript_deletes_on(
    created_at: datetime,
    keep_until: datetime | None,
    lesson_deletes_on: datetime | None,
    policy: Policy,
) -> datetime | None:
    """When the transcripts of a lesson uploaded at `created_at` are deleted: the school's
    transcript date or a later `keep_until`, and never after the lesson itself goes."""
    when = None
    if policy.transcript_days > 0:
        when = created_at + timedelta(days=policy.transcript_days)
        if keep_until is not None:
            when = max(when, keep_until)
    dates = [d for d in (when, lesson_deletes_on) if d is not None]
    return min(dates) if dates else None


def share_deletes_on(share: Share, policy: Policy) -> datetime | None:
    """When retention deletes a share: `share_days` after it was made, or when it ends (its
    date, or its revocation) if sooner; None while the school keeps shares."""
    if policy.share_days <= 0:
        return None
    ends = [share.created_at + timedelta(days=policy.share_days)]
    ends += [d for d in (share.until, share.revoked_at) if d is not None]
    return min(ends)


def in_warning(when: datetime | None, policy: Policy, now: datetime) -> bool:
    """Whether the owner and mentor should be told the lesson is going soon."""
    return when is not None and when - now <= timedelta(days=policy.warning_days)


class KeepUntilError(ValueError):
    """A "keep until" date outside what the policy allows (422 or 409 with `code`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_transcript_keep_until(
    created_at: datetime, until: datetime, policy: Policy, *, now: datetime
) -> None:
    """Raise KeepUntilError unless an admin may keep a lesson's transcripts until `until`."""
    if policy.transcript_days <= 0:
        raise KeepUntilError(
            "retention_off",
            "The school keeps transcripts with their lesson; no date is needed.",
        )
    if until <= now:
        raise KeepUntilError(
            "keep_until_past", "The date to keep the transcripts until has passed."
        )
    limit = created_at + timedelta(days=policy.max_days)
    if until > limit:
        raise KeepUntilError(
            "keep_until_too_late",
            f"That is later than an administrator may keep transcripts: at most "
            f"{policy.max_days} days after upload ({limit.date().isoformat()}).",
        )


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
    from models.model_practice import ModelShare
    from models.notifications import forget_reads  # it reads this module's neighbours

    lesson_id = lesson.id
    clips = select(Clip.id).where(Clip.lesson_id == lesson_id)
    comments = select(Comment.id).where(
        or_(Comment.lesson_id == lesson_id, Comment.clip_id.in_(clips))
    )
    shares = select(Share.id).where(Share.clip_id.in_(clips))
    model_shares = select(ModelShare.id).where(ModelShare.clip_id.in_(clips))
    named = [*session.scalars(comments), *session.scalars(shares), *session.scalars(model_shares)]
    forget_reads(session, named)
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
    audit.forget_search_words(session, lesson_id)
    action = {
        DeletionReason.retention: "lesson.expire",
        DeletionReason.deleted: "lesson.delete",
        DeletionReason.erasure: "lesson.erase",
    }[reason]
    audit.record(session, actor_id, action, "lesson", lesson_id, client=client, reason=reason.value)
    session.commit()
    search.purge_deleted(session)
    storage.delete_prefix(lesson_prefix(lesson_id))


def purge_expired(
    db_url: str, storage: Storage, policy: Policy, now: datetime | None = None
) -> list[str]:
    """Delete every lesson past its date, one transaction each; return their ids. A lesson
    whose date was moved (or that was deleted) since it was listed is left to its new fate."""
    now = now or utcnow()
    return act_on_due(
        db_url,
        Lesson,
        lambda session: expired(session, policy, now),
        lambda lesson: deletes_on(lesson.created_at, lesson.keep_until, policy),
        lambda session, lesson: delete_lesson(
            session, storage, lesson, actor_id=None, reason=DeletionReason.retention
        ),
        now,
    )


_Row = TypeVar("_Row", Lesson, Share)


def act_on_due(
    db_url: str,
    model: type[_Row],
    list_due: Callable[[Session], list[str]],
    date_of: Callable[[_Row], datetime | None],
    act: Callable[[Session, _Row], None],
    now: datetime,
) -> list[str]:
    """Run `act` on each row `list_due` names, one transaction each, the row locked and its
    date checked again under the lock: between listing and acting, an owner may have moved the
    date or deleted the row, and that decision wins. Returns the ids acted on."""
    from models.db import session_scope

    with session_scope(db_url) as session:
        due = list_due(session)
    done = []
    for row_id in due:
        with session_scope(db_url) as session:
            row = session.get(model, row_id, with_for_update=True)
            if row is None:
                continue
            when = date_of(row)
            if when is None or when > now:
                continue
            act(session, row)
            done.append(row_id)
    return done


SEGMENTS = "segments.json"
"""The candidate clips (pipeline.lesson.SEGMENTS; models may not import pipeline)."""


def delete_transcripts(
    session: Session, storage: Storage, lesson: Lesson, *, actor_id: str | None, client: str = ""
) -> None:
    """Delete every transcript of `lesson` and what was made from its words, keep the lesson,
    and commit: transcript files and versions, the search index, talk analytics, speaker turns,
    candidate clips (their titles and excerpts quote it) and every rendered clip (its captions
    do; it renders again without them). Transcription is switched off so nothing remakes it."""
    from models import search, transcription

    transcription.delete_all(session, storage, lesson)
    storage.delete(lesson.artefact_key(SEGMENTS))
    for clip in session.scalars(select(Clip).where(Clip.lesson_id == lesson.id)):
        forget_render(storage, clip)
    lesson.transcribe = False
    lesson.transcripts_deleted_at = utcnow()
    audit.forget_search_words(session, lesson.id)
    audit.record(
        session, actor_id, "lesson.transcripts_expire", "lesson", lesson.id, client=client,
        reason=DeletionReason.retention.value,
    )  # fmt: skip
    session.commit()
    search.purge_deleted(session)


def transcripts_due(session: Session, policy: Policy, now: datetime) -> list[str]:
    """Ids of lessons whose transcripts' date has come and that may still hold some (never
    deleted, or transcription switched on again since), oldest first; none mid-processing."""
    if policy.transcript_days <= 0:
        return []
    cutoff = now - timedelta(days=policy.transcript_days)
    rows = session.execute(
        select(Lesson.id, Lesson.created_at, Lesson.transcript_keep_until, Lesson.keep_until)
        .where(
            Lesson.created_at <= cutoff,
            or_(Lesson.transcripts_deleted_at.is_(None), Lesson.transcribe.is_(True)),
            Lesson.status.in_((LessonStatus.ready, LessonStatus.failed)),
        )
        .order_by(Lesson.created_at)
    ).all()
    return [
        lesson_id
        for lesson_id, created, keep, lesson_keep in rows
        if (
            when := transcript_deletes_on(
                created, keep, deletes_on(created, lesson_keep, policy), policy
            )
        )
        is not None
        and when <= now
    ]


def delete_share(session: Session, storage: Storage, share: Share, *, client: str = "") -> None:
    """Delete a share the school's period ended (the recipient's access goes with the row) and,
    when no live share of the clip is left, its rendered files; audited by ids; commits."""
    from models.access import active_share
    from models.notifications import forget_reads

    clip_id, share_id, recipient = share.clip_id, share.id, share.recipient_id
    forget_reads(session, [share_id])
    session.delete(share)
    session.flush()
    still_shared = session.scalar(
        select(Share.id).where(Share.clip_id == clip_id, active_share()).limit(1)
    )
    clip = session.get(Clip, clip_id)
    if clip is not None and still_shared is None:
        forget_render(storage, clip)
    audit.record(
        session, None, "share.expire", "clip", clip_id, client=client,
        share_id=share_id, recipient_id=recipient, reason=DeletionReason.retention.value,
    )  # fmt: skip
    session.commit()


def shares_due(session: Session, policy: Policy, now: datetime) -> list[str]:
    """Ids of shares whose date has come (made `share_days` ago, expired or revoked)."""
    if policy.share_days <= 0:
        return []
    cutoff = now - timedelta(days=policy.share_days)
    return list(
        session.scalars(
            select(Share.id)
            .where(
                or_(
                    Share.created_at <= cutoff,
                    Share.until <= now,
                    Share.revoked_at.is_not(None),
                )
            )
            .order_by(Share.created_at)
        )
    )


@dataclass(frozen=True)
class Enforced:
    """What one run of the retention task deleted, by id."""

    lessons: list[str]
    transcripts: list[str]
    shares: list[str]


def enforce(db_url: str, storage: Storage, policy: Policy, now: datetime | None = None) -> Enforced:
    """Apply the whole policy once: lessons past their date, then transcripts, then shares,
    one transaction each; anything whose date moved since it was listed is left alone."""
    now = now or utcnow()
    lessons = purge_expired(db_url, storage, policy, now)
    transcripts = act_on_due(
        db_url,
        Lesson,
        lambda session: transcripts_due(session, policy, now),
        lambda lesson: transcript_deletes_on(
            lesson.created_at,
            lesson.transcript_keep_until,
            deletes_on(lesson.created_at, lesson.keep_until, policy),
            policy,
        ),
        lambda session, lesson: delete_transcripts(session, storage, lesson, actor_id=None),
        now,
    )
    shares = act_on_due(
        db_url,
        Share,
        lambda session: shares_due(session, policy, now),
        lambda share: share_deletes_on(share, policy),
        lambda session, share: delete_share(session, storage, share),
        now,
    )
    return Enforced(lessons, transcripts, shares)
