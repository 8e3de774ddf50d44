"""Collections: clips from one or more lessons, bundled by a mentor and shared with an ECT at once.

A collection is the mentor's until shared. Sharing it makes one ordinary `Share` per clip, each
marked with the collection (`Share.collection_id`), so the ECT's access is exactly that of
sharing each clip: `models.access.clip_filter`, the consent checks, face-blurred renders,
blanked moments, the share retention period and the share notifications all apply unchanged.
The ECT sees the collection while one of its shares to them is live, and only the clips they
may see; revoking the collection revokes those shares, so the access ends at once.

Only the mentor who made a collection sees or changes it; its clips must be clips that mentor
may share (`require_clip_coaching` and `require_mentor_share`), and all of one ECT's lessons,
because a mentor's share always goes to the lesson's owner.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, String, Text, and_, exists, false, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models import audit
from models.access import (
    NotAllowedError,
    NotVisibleError,
    active_share,
    clip_filter,
    require_clip_coaching,
    require_mentor_share,
)
from models.account import Role, User, new_id
from models.coaching import Clip, Share
from models.db import Base, utcnow

MAX_ITEMS = 50


class Collection(Base):
    __tablename__ = "collections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class CollectionItem(Base):
    """A clip's place in a collection; deleting the clip (or its lesson) removes it."""

    __tablename__ = "collection_items"

    collection_id: Mapped[str] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    clip_id: Mapped[str] = mapped_column(
        ForeignKey("clips.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int]


def collection_filter(user: User, now: datetime | None = None) -> ColumnElement[bool]:
    """The condition on `Collection` for collections `user` may see: their own, and those with
    a live share to them."""
    shared = (
        exists()
        .where(
            Share.collection_id == Collection.id,
            Share.recipient_id == user.id,
            active_share(now),
        )
        .correlate(Collection)
    )
    if user.role == Role.admin:
        return false()  # admins manage records; they neither make nor receive collections
    return or_(Collection.owner_id == user.id, shared)


def visible_collection(session: Session, user: User, collection_id: str) -> Collection:
    found = session.scalar(
        select(Collection).where(Collection.id == collection_id, collection_filter(user))
    )
    if found is None:
        raise NotVisibleError("collection")
    return found


def require_collection_owner(user: User, collection: Collection) -> None:
    if collection.owner_id != user.id:
        raise NotAllowedError(
            "Only the mentor who made this collection may change or share it.",
            code="collection_owner_only",
        )


def require_collection_maker(user: User) -> None:
    if user.role != Role.mentor:
        raise NotAllowedError(
            "Collections are made by mentors to share clips with their ECTs.",
            code="collection_mentor_only",
        )


def shown_clips(session: Session, user: User, collection: Collection) -> list[Clip]:
    """The collection's clips in order, less those `user` may not see (an ECT sees only the
    clips still shared with them)."""
    return list(
        session.scalars(
            select(Clip)
            .join(CollectionItem, CollectionItem.clip_id == Clip.id)
            .where(CollectionItem.collection_id == collection.id, clip_filter(user))
            .order_by(CollectionItem.position)
        )
    )


def item_ids(session: Session, collection: Collection) -> list[str]:
    return list(
        session.scalars(
            select(CollectionItem.clip_id)
            .where(CollectionItem.collection_id == collection.id)
            .order_by(CollectionItem.position)
        )
    )


def check_clips(session: Session, user: User, clip_ids: list[str]) -> list[Clip]:
    """The clips, in the order given, each one `user` may share; 404 for one they do not see,
    403 for one they see but may not share (an ECT's own reflection)."""
    clips = {
        c.id: c
        for c in session.scalars(select(Clip).where(Clip.id.in_(clip_ids), clip_filter(user)))
    }
    found = []
    for clip_id in clip_ids:
        clip = clips.get(clip_id)
        if clip is None:
            raise NotVisibleError("clip")
        require_clip_coaching(session, user, clip, "put clips in a collection")
        require_mentor_share(session, clip)
        found.append(clip)
    return found


def recipients(session: Session, collection: Collection) -> dict[str, datetime | None]:
    """The ECTs the collection is live for, each with when their shares end (None: when
    revoked), so a clip added later is shared for as long as the rest."""
    ends: dict[str, datetime | None] = {}
    rows = session.execute(
        select(Share.recipient_id, Share.until).where(
            Share.collection_id == collection.id, active_share()
        )
    )
    for recipient_id, until in rows:
        known = ends.get(recipient_id, until)
        ends[recipient_id] = None if known is None or until is None else max(known, until)
    return ends


def share_clip(
    session: Session,
    user: User,
    collection: Collection,
    clip: Clip,
    recipient_id: str,
    until: datetime | None,
    client: str,
) -> Share:
    """The collection's live share of `clip` with `recipient_id`, made or given the new end;
    audited as every share is."""
    share = session.scalar(
        select(Share).where(
            Share.collection_id == collection.id,
            Share.clip_id == clip.id,
            Share.recipient_id == recipient_id,
            active_share(),
        )
    )
    if share is None:
        share = Share(
            clip_id=clip.id,
            recipient_id=recipient_id,
            shared_by=user.id,
            until=until,
            collection_id=collection.id,
        )
        session.add(share)
        session.flush()
    else:
        share.until = until
    audit.record(
        session, user.id, "share.create", "clip", clip.id, client=client,
        share_id=share.id, recipient_id=recipient_id, collection_id=collection.id,
        until=until.isoformat() if until else None,
    )  # fmt: skip
    return share


def revoke(
    session: Session,
    user: User,
    collection: Collection,
    client: str,
    *,
    recipient_id: str | None = None,
    clip_id: str | None = None,
) -> int:
    """Revoke the collection's live shares (to one recipient, of one clip, or all); each is
    audited as a share's revocation is. Says how many."""
    conditions = [Share.collection_id == collection.id, active_share()]
    if recipient_id is not None:
        conditions.append(Share.recipient_id == recipient_id)
    if clip_id is not None:
        conditions.append(Share.clip_id == clip_id)
    now = utcnow()
    shares = list(session.scalars(select(Share).where(and_(*conditions))))
    for share in shares:
        share.revoked_at, share.revoked_by = now, user.id
        audit.record(
            session, user.id, "share.revoke", "clip", share.clip_id, client=client,
            share_id=share.id, collection_id=collection.id,
        )  # fmt: skip
    return len(shares)
