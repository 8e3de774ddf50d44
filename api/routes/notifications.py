"""Notifications: what is new for the caller (models.notifications derives them), and marking
them read. Counts and items only ever cover what the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep
from api.errors import responses
from api.schemas import NotificationList, NotificationPublic, NotificationsRead, UserBrief
from models.account import User
from models.notifications import (
    Kind,
    Notification,
    mark_all_read,
    mark_read,
    notifications_for,
    unread_counts,
)

router = APIRouter(tags=["notifications"])


def _text(item: Notification, me: User, names: dict[str, str]) -> str:
    actor = names.get(item.actor_id or "", "Someone")
    ect = "Your" if item.ect_id == me.id else f"{names.get(item.ect_id or '', 'An ECT')}'s"
    match item.kind:
        case Kind.share:
            return f"{actor} shared {item.on or 'a clip'} with you"
        case Kind.comment:
            return (
                f"{actor} replied on {item.on}" if item.reply else f"{actor} commented on {item.on}"
            )
        case Kind.step_due:
            return "Your action step is due soon"
        case Kind.step_overdue:
            return f"{ect} action step is overdue"
        case Kind.step_practised:
            return f"{actor} practised an action step: ready for your review"
        case Kind.observation_due:
            return f"{ect} next observation is due"


def _listing(session: Session, user: User, limit: int) -> NotificationList:
    items = notifications_for(session, user)
    counts = unread_counts(items)
    shown = items[:limit]
    people = {i for item in shown for i in (item.actor_id, item.ect_id) if i}
    users = {u.id: u for u in (session.get(User, i) for i in people) if u is not None}
    names = {i: u.name for i, u in users.items()}
    return NotificationList(
        unread=sum(counts.values()),
        counts=counts,
        items=[
            NotificationPublic(
                key=item.key,
                kind=item.kind,
                group=item.group,
                at=item.at,
                read=item.read,
                text=_text(item, user, names),
                subject=item.subject,
                excerpt=item.excerpt,
                actor=UserBrief.model_validate(users[item.actor_id])
                if item.actor_id in users
                else None,
                href=item.href,
                due=item.due,
            )
            for item in shown
        ],
    )


@router.get("/notifications", response_model=NotificationList, responses=responses())
def list_notifications(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=0, le=200, description="Items to list (0: counts only).")] = 50,
) -> NotificationList:
    """New shares, comments and replies, action steps due and observations due, newest first,
    with the unread counts (the badge in the page header)."""
    return _listing(session, user, limit)


@router.post("/notifications/read", response_model=NotificationList, responses=responses())
def read_some(body: NotificationsRead, user: CurrentUser, session: SessionDep) -> NotificationList:
    """Mark items read by their keys; keys that are not your current items are ignored."""
    mark_read(session, user, body.keys)
    session.commit()
    return _listing(session, user, 50)


@router.post("/notifications/read-all", response_model=NotificationList, responses=responses())
def read_all(user: CurrentUser, session: SessionDep) -> NotificationList:
    """Mark everything listed up to now read."""
    mark_all_read(session, user)
    session.commit()
    return _listing(session, user, 50)
