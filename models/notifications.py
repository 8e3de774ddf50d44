"""Notifications: what is new for a user, derived from the rows that already record it.

Nothing is written when something happens; a user's notifications are worked out when asked,
from the same rows and through the same access rules (models.access) as everything else, so a
revoked or expired share, a comment removed by its author, a clip its ECT stopped sharing or an
ended pairing simply takes its notification with it. What is kept per user is only what they
have read: a "read up to" time (mark all read) and a read mark per item (`NotificationRead`).

    share            a clip shared with me (any Share row, whatever feature made it), a
                     collection of clips shared with me (one item for its shares), or a model
                     clip shared with me or a group I am in (one item per clip, the model share
                     that reached me last; `models.access.model_shares_to`): news from when it
                     was shared, or from when I joined the group if that was later
    comment          a comment or reply by someone else on a clip I made, on my lesson, in a
                     thread I am in (I wrote the comment it answers, or another reply to it), or
                     on a clip shared with me (a model clip too, shared with me or my group),
                     written after it was shared, and that I may read (`comment_filter`)
    step_due         (ECT) one of my open action steps is due within DUE_SOON_DAYS
    step_overdue     (ECT, their mentors) an open step's target date has passed
    step_practised   (mentor) my ECT marked a step practised: it waits for my review
    observation_due  (ECT, their mentors) the next observation of the rhythm is due

Events (shares, comments, practised steps) are listed for EVENT_DAYS; dues while they hold.
An item's key names the thing and its state (a step due on another date is a new item), and its
time is when it became news, so "mark all read" covers exactly what had happened by then.

The email digest (`email_digests`) says only how many new items there are and links to the
list: never a title, a name, a comment or anything else of a lesson (docs/privacy.md).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import ForeignKey, String, and_, delete, exists, or_, select
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from models.access import (
    active_share,
    clip_filter,
    comment_filter,
    lesson_content_filter,
    model_share_reaches,
    model_shares_to,
    paired_ect_ids,
)
from models.account import Role, User
from models.action_steps import ActionStep, StepStatus, last_observation, next_observation_due
from models.coaching import Clip, Comment, Share
from models.collections import Collection
from models.db import Base, utcnow
from models.lesson import Lesson
from models.model_practice import ModelShare
from models.settings import Settings

log = logging.getLogger(__name__)

EVENT_DAYS = 30
"""How long shares, comments and practised steps stay in the list."""
DUE_SOON_DAYS = 2
"""An open action step is 'due soon' from this many days before its target date."""
MAX_KEY = 120
_DAY = timedelta(days=1)


class Kind(enum.StrEnum):
    share = "share"
    comment = "comment"
    step_due = "step_due"
    step_overdue = "step_overdue"
    step_practised = "step_practised"
    observation_due = "observation_due"


GROUPS = {
    Kind.share: "shares",
    Kind.comment: "comments",
    Kind.step_due: "steps",
    Kind.step_overdue: "steps",
    Kind.step_practised: "steps",
    Kind.observation_due: "observations",
}
"""The counts the badge and the list page show, by group."""


class NotificationState(Base):
    """Per user: everything up to `read_up_to` is read; the last digest covered `emailed_up_to`."""

    __tablename__ = "notification_states"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    read_up_to: Mapped[datetime | None]
    emailed_up_to: Mapped[datetime | None]


class NotificationRead(Base):
    """One item a user marked read (its key, as `Notification.key`)."""

    __tablename__ = "notification_reads"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Notification:
    key: str
    kind: Kind
    at: datetime
    """When it became news."""
    actor_id: str | None
    """Who did it (the sharer, the commenter, the ECT), or None for a date coming round."""
    subject: str
    """What it is about, as the user already sees it: a clip's title, a step's words."""
    href: str
    ect_id: str | None = None
    """The ECT a step or an observation is about."""
    due: date | None = None
    reply: bool = False
    on: str = ""
    """For a comment: what it is on, as the user says it ("your lesson", "your clip")."""
    excerpt: str = ""
    """For a comment: its first words."""
    read: bool = False

    @property
    def group(self) -> str:
        return GROUPS[self.kind]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


EXCERPT = 120


def _excerpt(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= EXCERPT else words[: EXCERPT - 1].rstrip() + "…"


def _shares(session: Session, user: User, now: datetime, since: datetime) -> list[Notification]:
    """One item per clip shared, and one per collection shared (its clips' shares together)."""
    rows = session.execute(
        select(
            Share.id, Share.created_at, Share.shared_by, Clip.id, Clip.title,
            Collection.id, Collection.title,
        )
        .join(Clip, Clip.id == Share.clip_id)
        .outerjoin(Collection, Collection.id == Share.collection_id)
        .where(
            Share.recipient_id == user.id,
            Share.created_at >= since,
            active_share(now),
            clip_filter(user, now),
        )
        .order_by(Share.created_at.desc(), Share.id)
    )  # fmt: skip
    seen: set[str] = set()
    items = []
    for share_id, at, by, clip_id, title, collection_id, collection_title in rows:
        about = f"/collections/{collection_id}" if collection_id else f"/clips/{clip_id}"
        if about in seen:  # shared again: the newest share says it
            continue
        seen.add(about)
        on = "a collection" if collection_id else ""
        subject = collection_title if collection_id else title
        items.append(Notification(f"share:{share_id}", Kind.share, at, by, subject, about, on=on))
    for model_share, clip, at in model_shares_to(session, user):
        if at < since:
            continue
        key = f"model_share:{model_share.id}"
        if at > model_share.created_at:  # joined the group since: news again if they rejoin
            key += f":{at.timestamp():.6f}"
        items.append(
            Notification(
                key, Kind.share, at, model_share.shared_by, clip.title, f"/clips/{clip.id}",
                on="a model clip",
            )
        )  # fmt: skip
    return items


def _comments(session: Session, user: User, now: datetime, since: datetime) -> list[Notification]:
    parent = aliased(Comment)
    sibling = aliased(Comment)
    in_thread = and_(
        Comment.parent_id.is_not(None),
        or_(
            exists().where(parent.id == Comment.parent_id, parent.author_id == user.id),
            exists().where(sibling.parent_id == Comment.parent_id, sibling.author_id == user.id),
        ),
    )
    shared_before = exists().where(
        Share.clip_id == Comment.clip_id,
        Share.recipient_id == user.id,
        Share.created_at < Comment.created_at,
        active_share(now),
    )
    model_shared_before = exists().where(
        ModelShare.clip_id == Comment.clip_id,
        model_share_reaches(user),
        ModelShare.created_at < Comment.created_at,
    )
    news = and_(
        Comment.created_at >= since,
        Comment.deleted_at.is_(None),
        or_(Comment.author_id.is_(None), Comment.author_id != user.id),
    )
    on_clips = session.execute(
        select(Comment, Clip.title, Clip.author_id == user.id)
        .join(Clip, Clip.id == Comment.clip_id)
        .where(
            news,
            clip_filter(user, now),
            comment_filter(user),
            or_(Clip.author_id == user.id, shared_before, model_shared_before, in_thread),
        )
    )
    on_lessons = session.execute(
        select(Comment, Lesson.title, Lesson.owner_id == user.id)
        .join(Lesson, Lesson.id == Comment.lesson_id)
        .where(news, lesson_content_filter(user), or_(Lesson.owner_id == user.id, in_thread))
    )
    items = []
    for comment, title, mine in [*on_clips, *on_lessons]:
        if comment.clip_id is not None:
            href = f"/clips/{comment.clip_id}"
            on = "your clip" if mine else "a clip shared with you"
        else:
            href = f"/lessons/{comment.lesson_id}?t={comment.at:g}"
            on = "your lesson" if mine else "a lesson"
        items.append(
            Notification(
                f"comment:{comment.id}",
                Kind.comment,
                comment.created_at,
                comment.author_id,
                title,
                href,
                reply=comment.parent_id is not None,
                on=on,
                excerpt=_excerpt(comment.body),
            )
        )
    return items


def _steps(session: Session, user: User, today: date, since: datetime) -> list[Notification]:
    if user.role == Role.ect:
        mine = ActionStep.ect_id == user.id
    elif user.role == Role.mentor:
        mine = ActionStep.ect_id.in_(paired_ect_ids(user))
    else:
        return []
    items = []
    for step in session.scalars(
        select(ActionStep).where(
            mine, ActionStep.status.in_((StepStatus.open, StepStatus.practised))
        )
    ):
        target = step.target_date
        news: tuple[str, Kind, datetime, str | None] | None = None
        if step.status == StepStatus.practised:
            if user.role == Role.mentor and step.practised_at and step.practised_at >= since:
                stamp = f"{step.practised_at.timestamp():.0f}"
                news = (stamp, Kind.step_practised, step.practised_at, step.ect_id)
        elif target < today:
            news = (target.isoformat(), Kind.step_overdue, _midnight(target + _DAY), None)
        elif user.role == Role.ect and target <= today + DUE_SOON_DAYS * _DAY:
            became = max(step.created_at, _midnight(target - DUE_SOON_DAYS * _DAY))
            news = (target.isoformat(), Kind.step_due, became, None)
        if news is None:
            continue
        state, kind, at, actor = news
        items.append(
            Notification(
                f"{kind.value}:{step.id}:{state}",
                kind,
                at,
                actor,
                step.instruction,
                "/" if step.ect_id == user.id else f"/progress/{step.ect_id}",
                ect_id=step.ect_id,
                due=None if kind == Kind.step_practised else target,
            )
        )
    return items


def _observations(session: Session, user: User, today: date) -> list[Notification]:
    if user.role == Role.ect:
        ects = [user]
    elif user.role == Role.mentor:
        ects = list(session.scalars(select(User).where(User.id.in_(paired_ect_ids(user)))))
    else:
        return []
    items = []
    for ect in ects:
        if not ect.active:
            continue
        last = last_observation(session, ect.id)
        due = next_observation_due(ect.induction_start, last, today).due
        if due is None or due > today:
            continue
        if ect.induction_start is not None and (last is None or last < ect.induction_start):
            due = ect.induction_start  # none yet: due since the first day (not "today" daily)
        items.append(
            Notification(
                f"observation_due:{ect.id}:{due.isoformat()}",
                Kind.observation_due,
                _midnight(due),
                None,
                ect.name if ect.id != user.id else "",
                "/" if ect.id == user.id else f"/progress/{ect.id}",
                ect_id=ect.id,
                due=due,
            )
        )
    return items


def state_of(session: Session, user_id: str) -> NotificationState:
    state = session.get(NotificationState, user_id)
    if state is None:
        state = NotificationState(user_id=user_id)
        session.add(state)
    return state


def notifications_for(
    session: Session, user: User, now: datetime | None = None
) -> list[Notification]:
    """Everything the user is told about now, newest first, each marked read or not."""
    now = now or utcnow()
    today = now.date()
    since = now - timedelta(days=EVENT_DAYS)
    items = [
        *_shares(session, user, now, since),
        *_comments(session, user, now, since),
        *_steps(session, user, today, since),
        *_observations(session, user, today),
    ]
    state = session.get(NotificationState, user.id)
    read_up_to = state.read_up_to if state else None
    marks = set(
        session.scalars(select(NotificationRead.key).where(NotificationRead.user_id == user.id))
    )
    marked = [
        replace(i, read=i.key in marks or (read_up_to is not None and i.at <= read_up_to))
        for i in items
    ]
    marked.sort(key=lambda i: (i.at, i.key), reverse=True)
    return marked


def unread_counts(items: Iterable[Notification]) -> dict[str, int]:
    counts = dict.fromkeys(dict.fromkeys(GROUPS.values()), 0)
    for item in items:
        if not item.read:
            counts[item.group] += 1
    return counts


def forget_reads(session: Session, ids: Iterable[str]) -> None:
    """Drop everyone's read marks on items about `ids` (deleted shares, comments, steps, an erased
    person): an item's key names what it is about by id (`share:ID`, `comment:ID`, ...), and a
    deleted thing leaves no row that names it."""
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 100):
        batch = wanted[start : start + 100]
        about = [NotificationRead.key.contains(i, autoescape=True) for i in batch]
        session.execute(delete(NotificationRead).where(or_(*about)))


def mark_read(
    session: Session, user: User, keys: Iterable[str], now: datetime | None = None
) -> int:
    """Mark those of `keys` that are the user's current items read; the number newly marked.
    Keys that are not (made up, or gone since the list was drawn) are ignored."""
    current = {i.key: i for i in notifications_for(session, user, now)}
    fresh = [k for k in dict.fromkeys(keys) if k in current and not current[k].read]
    for key in fresh:
        session.add(NotificationRead(user_id=user.id, key=key))
    return len(fresh)


def mark_all_read(session: Session, user: User, now: datetime | None = None) -> None:
    """Everything that had happened by `now` is read; single marks before it are not needed."""
    state_of(session, user.id).read_up_to = now or utcnow()
    session.execute(delete(NotificationRead).where(NotificationRead.user_id == user.id))


# the email digest


class Mailer(Protocol):
    """Sends one message (models.mail.SmtpMailer; tests use an in-memory one or a local sink)."""

    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class DigestOptions:
    sender: str
    link: str
    """Where the list is (the deployment's public URL + /notifications), or '' if unknown."""


def digest_options(settings: Settings) -> DigestOptions:
    base = settings.public_url.rstrip("/")
    return DigestOptions(sender=settings.smtp_from, link=f"{base}/notifications" if base else "")


def digest_message(count: int, to: str, options: DigestOptions) -> EmailMessage:
    """The whole email: how many new items and a link. Nothing of a lesson, clip, comment, step
    or person goes in it (it leaves the school's systems; see docs/privacy.md)."""
    message = EmailMessage()
    message["From"] = options.sender
    message["To"] = to
    items = "1 new item" if count == 1 else f"{count} new items"
    message["Subject"] = f"You have {items} in clipcoach"
    where = (
        f"See them here (sign in first): {options.link}"
        if options.link
        else "Sign in to clipcoach to see them."
    )
    message.set_content(
        f"You have {items} in clipcoach.\n\n{where}\n\n"
        "This email never says more than this: what the items are stays in clipcoach.\n"
    )
    return message


def email_digests(
    session: Session, mailer: Mailer, options: DigestOptions, now: datetime | None = None
) -> int:
    """Email each active user with unread items that are new since their last digest how many
    there are; the number of emails sent. Each user's digest is committed as sent, so a failure
    part way through (the SMTP server gone) is retried later for the rest only."""
    now = now or utcnow()
    sent = 0
    users = list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)))
    for user in users:
        state = session.get(NotificationState, user.id)
        after = state.emailed_up_to if state else None
        new = [
            i
            for i in notifications_for(session, user, now)
            if not i.read and (after is None or i.at > after)
        ]
        if new:
            mailer.send(digest_message(len(new), user.email, options))
            sent += 1
        state_of(session, user.id).emailed_up_to = now
        session.commit()
    return sent
