"""The ECT's review list: clips shared with the caller, newest share first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import CurrentUser, SessionDep
from api.errors import responses
from api.schemas import FeedClip, FeedItem
from api.services.clips import comment_counts, user_brief
from api.services.tags import tags_of
from models.access import active_share
from models.coaching import Clip, Share
from models.lesson import Lesson
from models.retention import school_policy, share_deletes_on

router = APIRouter(tags=["feed"])


@router.get("/feed", response_model=list[FeedItem], responses=responses())
def feed(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[FeedItem]:
    """What has been shared with you and is still shared (not expired, not revoked)."""
    rows = session.execute(
        select(Share, Clip, Lesson)
        .join(Clip, Clip.id == Share.clip_id)
        .join(Lesson, Lesson.id == Clip.lesson_id)
        .where(Share.recipient_id == user.id, active_share())
        .order_by(Share.created_at.desc(), Share.id)
        .limit(limit)
        .offset(offset)
    )
    items = list(rows)
    ids = [clip.id for _, clip, _ in items]
    tags, counts = tags_of(session, ids), comment_counts(session, ids)
    policy = school_policy()
    return [
        FeedItem(
            share_id=share.id,
            shared_at=share.created_at,
            until=share.until,
            deletes_on=share_deletes_on(share, policy),
            shared_by=user_brief(session, share.shared_by),
            clip=FeedClip(
                id=clip.id,
                title=clip.title,
                note=clip.note,
                start=clip.start,
                end=clip.end,
                duration=round(clip.end - clip.start, 3),
                lesson_id=lesson.id,
                lesson_title=lesson.title,
                consent=lesson.consent,
            ),
            tags=tags[clip.id],
            comment_count=counts[clip.id],
        )
        for share, clip, lesson in items
    ]
