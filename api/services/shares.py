"""Shares of a clip: with the ECT whose lesson it is, or (a reflection) with the ECT's mentors;
each checked against the lesson's consent, audited, and revocable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.schemas import SharePublic
from api.services.clips import user_brief
from api.services.errors import ConflictError, InvalidError
from models import audit
from models.access import NotVisibleError, active_share
from models.account import User
from models.coaching import Clip, Share
from models.consent import ConsentRefusedError, check_share
from models.db import utcnow
from models.lesson import Lesson
from models.retention import school_policy, share_deletes_on


def share_public(session: Session, share: Share) -> SharePublic:
    recipient = user_brief(session, share.recipient_id)
    assert recipient is not None  # noqa: S101 - recipients cascade
    until, revoked = share.until, share.revoked_at
    return SharePublic(
        id=share.id,
        clip_id=share.clip_id,
        recipient=recipient,
        shared_by=user_brief(session, share.shared_by),
        created_at=share.created_at,
        until=until,
        revoked_at=revoked,
        active=revoked is None and (until is None or until > utcnow()),
        deletes_on=share_deletes_on(share, school_policy()),
    )


def clip_shares(session: Session, clip: Clip) -> list[SharePublic]:
    """Every share of `clip`, newest first, revoked and ended ones included."""
    rows = session.scalars(
        select(Share).where(Share.clip_id == clip.id).order_by(Share.created_at.desc())
    )
    return [share_public(session, s) for s in rows]


def check_consent(lesson: Lesson) -> None:
    """ConflictError when the lesson's consent does not allow sharing its clips."""
    try:
        check_share(lesson.consent, has_audio=lesson.has_audio)
    except ConsentRefusedError as exc:
        raise ConflictError(str(exc), exc.code) from None


def future(until: datetime | None) -> datetime | None:
    if until is not None and until <= utcnow():
        raise InvalidError("`until` must be in the future.")
    return until


def share_with(
    session: Session,
    user: User,
    clip: Clip,
    recipient_id: str,
    until: datetime | None,
    client: str,
) -> Share:
    """The clip's active share with `recipient_id`, made or given the new end; audited, not
    committed."""
    existing = session.scalar(
        select(Share).where(
            Share.clip_id == clip.id,
            Share.recipient_id == recipient_id,
            Share.collection_id.is_(None),  # a collection's shares end with the collection
            active_share(),
        )
    )
    if existing is not None:
        existing.until = until
        share = existing
    else:
        share = Share(clip_id=clip.id, recipient_id=recipient_id, shared_by=user.id, until=until)
        session.add(share)
        session.flush()
    audit.record(
        session, user.id, "share.create", "clip", clip.id, client=client,
        share_id=share.id, recipient_id=recipient_id,
        until=until.isoformat() if until else None,
    )  # fmt: skip
    return share


def revoke(session: Session, user: User, clip: Clip, share_id: str, client: str) -> None:
    """End the share at once (the clip leaves the recipient's feed); audited and committed.
    Revoking a revoked share changes nothing."""
    share = session.get(Share, share_id)
    if share is None or share.clip_id != clip.id:
        raise NotVisibleError("share")
    if share.revoked_at is None:
        share.revoked_at = utcnow()
        share.revoked_by = user.id
        audit.record(
            session, user.id, "share.revoke", "clip", clip.id,
            client=client, share_id=share.id,
        )  # fmt: skip
        session.commit()
