"""Comments on a clip or a whole lesson: the thread as a client reads it, writing one at a
moment, and the author changing or removing theirs within the edit window.

Who sees a comment is decided in models.access (`visible_comment`); the author alone changes it,
within `comment_edit_window_hours` of writing it. Removing a comment that has replies keeps its
place in the thread as "comment removed", so the replies still read as answers to something.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.schemas import CommentCreate, CommentPublic, UserBrief
from api.services.errors import ConflictError, InvalidError
from models import audit
from models.access import (
    NotVisibleError,
    comment_filter,
    require_comment_author,
    visible_comment,
)
from models.account import User
from models.coaching import Comment, CommentKind, editable_until
from models.db import utcnow
from models.lesson import Lesson, LessonStatus
from models.settings import Settings

AT_SLACK = 0.05
"""Seconds past the end a comment's moment may be (the player's last frame rounds up)."""


def edit_window(settings: Settings) -> timedelta:
    return timedelta(hours=settings.comment_edit_window_hours)


def comment_public(
    session: Session, user: User, comment: Comment, window: timedelta
) -> CommentPublic:
    author = session.get(User, comment.author_id) if comment.author_id else None
    until = editable_until(comment, window)
    mine = comment.author_id == user.id and comment.deleted_at is None and utcnow() < until
    return CommentPublic(
        id=comment.id,
        clip_id=comment.clip_id,
        lesson_id=comment.lesson_id,
        parent_id=comment.parent_id,
        author=UserBrief.model_validate(author) if author else None,
        at=comment.at,
        kind=comment.kind,
        body="" if comment.deleted_at else comment.body,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
        deleted=comment.deleted_at is not None,
        editable_until=until if mine else None,
    )


def comment_tree(
    session: Session, user: User, rows: Sequence[Comment], window: timedelta
) -> list[CommentPublic]:
    """Top-level comments in time order, each with its replies oldest first."""
    public = {c.id: comment_public(session, user, c, window) for c in rows}
    for c in sorted(rows, key=lambda r: (r.created_at, r.id)):
        if c.parent_id and c.parent_id in public:
            public[c.parent_id].replies.append(public[c.id])
    top = [c for c in rows if not c.parent_id or c.parent_id not in public]
    top.sort(key=lambda c: (c.at, c.created_at, c.id))
    return [public[c.id] for c in top]


def check_moment(at: float, length: float, what: str) -> None:
    if at > length + AT_SLACK:
        raise InvalidError(
            f"`at` is {at:.2f} s but the {what} is {length:.2f} s long.", "comment_at_too_late"
        )


def check_parent(session: Session, parent_id: str | None, *, clip_id: str | None = None,
                 lesson_id: str | None = None) -> None:  # fmt: skip
    """A reply answers a comment on the same clip or lesson, one that is still there."""
    if parent_id is None:
        return
    parent = session.get(Comment, parent_id)
    if parent is None or (parent.clip_id, parent.lesson_id) != (clip_id, lesson_id):
        raise NotVisibleError("comment to reply to")
    if parent.deleted_at is not None:
        raise ConflictError(
            "That comment was removed by its author; it takes no new replies.", "comment_removed"
        )


def post_comment(
    session: Session,
    user: User,
    body: CommentCreate,
    settings: Settings,
    client: str,
    *,
    on: tuple[str, str],
    length: float,
) -> CommentPublic:
    """Write a comment (or reply) at a moment of a clip or lesson the caller may comment on.

    `on` is ("clip", id) or ("lesson", id); `length` is its duration in seconds.
    """
    kind, target_id = on
    where = {"clip_id": target_id} if kind == "clip" else {"lesson_id": target_id}
    check_moment(body.at, length, kind)
    if body.parent_id is not None:
        visible_comment(session, user, body.parent_id)  # no replies to what one may not read
    check_parent(session, body.parent_id, **where)
    comment = Comment(
        **where,
        parent_id=body.parent_id,
        author_id=user.id,
        at=round(body.at, 3),
        kind=body.kind,
        body=body.body,
    )
    session.add(comment)
    session.flush()
    audit.record(
        session, user.id, "comment.create", kind, target_id,
        client=client, comment_id=comment.id,
    )  # fmt: skip
    session.commit()
    return comment_public(session, user, comment, edit_window(settings))


def thread(
    session: Session, user: User, settings: Settings, *, on: tuple[str, str]
) -> list[CommentPublic]:
    """The comments on ("clip", id) or ("lesson", id), as `comment_tree` orders them."""
    kind, target_id = on
    column = Comment.clip_id if kind == "clip" else Comment.lesson_id
    rows = list(session.scalars(select(Comment).where(column == target_id, comment_filter(user))))
    return comment_tree(session, user, rows, edit_window(settings))


def require_commentable(lesson: Lesson) -> float:
    """The lesson's length, once it is ready to take comments."""
    if lesson.status != LessonStatus.ready or lesson.duration is None:
        raise ConflictError(
            "The lesson is still being processed; comment once it is ready.", "lesson_not_ready"
        )
    return lesson.duration


def changeable(session: Session, user: User, comment_id: str, settings: Settings) -> Comment:
    """The caller's own comment, still there and within the edit window."""
    comment = visible_comment(session, user, comment_id)
    require_comment_author(user, comment)
    if comment.deleted_at is not None:
        raise ConflictError("This comment was already removed.", "comment_removed")
    if utcnow() >= editable_until(comment, edit_window(settings)):
        hours = settings.comment_edit_window_hours
        raise ConflictError(
            f"Comments can be changed or removed for {hours:g} hours after writing them; "
            "add a reply instead.",
            "comment_edit_window_closed",
        )
    return comment


def _where(comment: Comment) -> tuple[str, str]:
    if comment.clip_id is not None:
        return "clip", comment.clip_id
    assert comment.lesson_id is not None  # noqa: S101 - a comment is on a clip or a lesson
    return "lesson", comment.lesson_id


def edit(
    session: Session,
    user: User,
    comment: Comment,
    text: str | None,
    new_kind: CommentKind | None,
    client: str,
) -> None:
    """Change the words or kind of `comment` (checked by `changeable`); marked edited, audited
    without the words (the audit log is an admin's) and committed when anything changed."""
    changed = {"body"} if text is not None and text != comment.body else set()
    if new_kind is not None and new_kind != comment.kind:
        changed.add("kind")
    if changed:
        comment.body = text if text is not None else comment.body
        comment.kind = new_kind or comment.kind
        comment.edited_at = utcnow()
        kind, where = _where(comment)
        audit.record(
            session, user.id, "comment.edit", kind, where, client=client,
            comment_id=comment.id, changed=sorted(changed),
        )  # fmt: skip
        session.commit()


def remove(session: Session, user: User, comment: Comment, client: str) -> None:
    """Remove `comment` (checked by `changeable`): one with live replies stays as "comment
    removed" without its words; one without goes, with a removed parent left bare. Audited."""
    comment_id = comment.id
    kind, where = _where(comment)
    replies = session.scalars(select(Comment).where(Comment.parent_id == comment.id)).all()
    if any(r.deleted_at is None for r in replies):
        comment.deleted_at = utcnow()
        comment.body = ""
        kept = True
    else:
        parent = session.get(Comment, comment.parent_id) if comment.parent_id else None
        for reply in replies:
            session.delete(reply)
        session.delete(comment)
        session.flush()
        if parent is not None and parent.deleted_at is not None:
            _drop_if_bare(session, parent)
        kept = False
    audit.record(
        session, user.id, "comment.delete", kind, where, client=client,
        comment_id=comment_id, kept_for_replies=kept,
    )  # fmt: skip
    session.commit()


def _drop_if_bare(session: Session, removed: Comment) -> None:
    """A removed comment whose last live reply went goes too: nothing is left to read."""
    left = session.scalars(select(Comment).where(Comment.parent_id == removed.id)).all()
    if all(r.deleted_at is not None for r in left):
        for reply in left:
            session.delete(reply)
        session.delete(removed)
