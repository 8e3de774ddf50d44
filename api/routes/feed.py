"""The ECT's review list: clips shared with the caller, newest share first.

Two kinds of share reach it: a clip shared for coaching (a `Share`, also made by a collection)
and a model clip shared with the caller or a group they are in (a `ModelShare`). A model clip
shared more than once (to them and to their group) is listed once, by its newest share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep
from api.errors import responses
from api.schemas import FeedClip, FeedItem
from api.services.clips import comment_counts, user_brief
from api.services.tags import tags_of
from models.access import active_share, model_shares_to
from models.account import User
from models.coaching import Clip, Share
from models.lesson import Lesson
from models.retention import school_policy, share_deletes_on

router = APIRouter(tags=["feed"])


@dataclass(frozen=True)
class _Entry:
    share_id: str
    shared_at: datetime
    shared_by: str | None
    clip: Clip
    lesson: Lesson
    share: Share | None
    """The coaching share (None for a model clip: the school's share period does not apply)."""


def _coaching(session: Session, user: User, upto: int) -> list[_Entry]:
    rows = session.execute(
        select(Share, Clip, Lesson)
        .join(Clip, Clip.id == Share.clip_id)
        .join(Lesson, Lesson.id == Clip.lesson_id)
        .where(Share.recipient_id == user.id, active_share())
        .order_by(Share.created_at.desc(), Share.id)
        .limit(upto)
    )
    return [_Entry(s.id, s.created_at, s.shared_by, c, lesson, s) for s, c, lesson in rows]


def _model(session: Session, user: User) -> list[_Entry]:
    entries = []
    for share, clip, _ in model_shares_to(session, user):
        lesson = session.get(Lesson, clip.lesson_id)
        assert lesson is not None  # noqa: S101 - the foreign key cascades
        entries.append(_Entry(share.id, share.created_at, share.shared_by, clip, lesson, None))
    return entries


@router.get("/feed", response_model=list[FeedItem], responses=responses())
def feed(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[FeedItem]:
    """What has been shared with you and is still shared (not expired, not revoked): clips
    shared for coaching and model practice shared with you or your group (`model_practice`)."""
    merged = [*_coaching(session, user, offset + limit), *_model(session, user)]
    merged.sort(key=lambda e: e.shared_at, reverse=True)  # stable: ties keep their order
    items = merged[offset : offset + limit]
    ids = [e.clip.id for e in items]
    tags, counts = tags_of(session, ids), comment_counts(session, user, ids)
    policy = school_policy()
    return [
        FeedItem(
            share_id=e.share_id,
            shared_at=e.shared_at,
            until=e.share.until if e.share else None,
            deletes_on=share_deletes_on(e.share, policy) if e.share else None,
            shared_by=user_brief(session, e.shared_by),
            model_practice=e.share is None,
            clip=FeedClip(
                id=e.clip.id,
                title=e.clip.title,
                note=e.clip.note,
                start=e.clip.start,
                end=e.clip.end,
                duration=round(e.clip.end - e.clip.start, 3),
                lesson_id=e.lesson.id,
                lesson_title=e.lesson.title,
                consent=e.lesson.consent,
            ),
            tags=tags[e.clip.id],
            comment_count=counts[e.clip.id],
        )
        for e in items
    ]
