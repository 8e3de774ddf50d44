"""A person's data: everything held about one user, exported for a subject access request, and
erasing it when they leave or withdraw consent.

Export (`export_records`) is metadata and words, never recordings: the account, the lessons they
own, the clips they made or that were made of their lessons, the comments and reflections they
wrote, their action steps, the shares to and from them, their lessons' tombstones and every audit
event they did or that is about them or their lessons.

Erasure (`erase`) keeps the account row, anonymised, so what others wrote stays whole:
- their lessons are deleted as retention deletes them (models.retention.delete_lesson): rows,
  files, search index, rendered clips; each leaves a tombstone and a `lesson.erase` event;
- clips they made of others' lessons are deleted with their rendered files (and the comments on
  them); their comments on others' clips and lessons are kept, shown by the anonymised name
  "Former colleague", since they are part of someone else's coaching record;
- action steps set for them are deleted, steps they set for others are kept (as the former
  colleague's); shares and model-practice shares to them, their ECT groups and memberships,
  their collections, pairings, unfinished uploads, batches and everyone's read marks on what
  went are deleted;
- the account is renamed, its email replaced, its password made unusable, it is deactivated and
  every session and media link it holds ends;
- audit events stay (the log is append-only) and now name the anonymised account; failed
  sign-ins, which named the account by the email typed, name the anonymised email instead.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from models import audit, search
from models.account import Pairing, RevokedToken, User
from models.accounts import end_sessions, hash_password
from models.action_steps import ActionStep
from models.audit import AuditEvent
from models.batch import Batch
from models.coaching import Clip, ClipTag, Comment, Share
from models.collections import Collection
from models.lesson import Lesson
from models.model_practice import EctGroup, EctGroupMember, ModelShare
from models.notifications import NotificationRead, NotificationState, forget_reads
from models.pupilnames import PupilName, list_of
from models.retention import DeletionReason, LessonTombstone, delete_lesson
from models.storage import Storage
from models.upload import Upload, discard

FORMER_NAME = "Former colleague"
ERASED_DOMAIN = "erased.invalid"


class EraseRefusedError(Exception):
    """An erasure that must not happen (409 with `code`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def _row(obj: Any, *skip: str) -> dict[str, Any]:
    """A table row as JSON-ready values, without the columns in `skip`."""
    return {c.key: _plain(getattr(obj, c.key)) for c in obj.__table__.columns if c.key not in skip}


def export_records(session: Session, user: User) -> dict[str, list[dict[str, Any]]]:
    """Everything held about `user`, by file name (each a list of rows)."""
    uid = user.id
    lessons = list(session.scalars(select(Lesson).where(Lesson.owner_id == uid)))
    lesson_ids = [lesson.id for lesson in lessons]
    clips = list(
        session.scalars(
            select(Clip)
            .where(or_(Clip.author_id == uid, Clip.lesson_id.in_(lesson_ids)))
            .order_by(Clip.created_at)
        )
    )
    comments = list(
        session.scalars(
            select(Comment).where(Comment.author_id == uid).order_by(Comment.created_at)
        )
    )
    steps = list(
        session.scalars(
            select(ActionStep)
            .where(or_(ActionStep.ect_id == uid, ActionStep.set_by == uid))
            .order_by(ActionStep.created_at)
        )
    )
    shares = list(
        session.scalars(select(Share).where(or_(Share.recipient_id == uid, Share.shared_by == uid)))
    )
    tombstones = list(
        session.scalars(select(LessonTombstone).where(LessonTombstone.owner_id == uid))
    )
    about = [uid, *lesson_ids, *(c.id for c in clips)]
    events = list(
        session.scalars(
            select(AuditEvent)
            .where(or_(AuditEvent.actor_id == uid, AuditEvent.object_id.in_(about)))
            .order_by(AuditEvent.id)
        )
    )
    return {
        "account": [_row(user, "password_hash", "session_version")],
        "lessons": [
            _row(lesson, "probe", "options", "source_key", "media_key") for lesson in lessons
        ],
        "clips": [_row(clip, "media_key", "captions_key") for clip in clips],
        "comments": [_row(c) for c in comments if c.kind.value != "reflection"],
        "reflections": [_row(c) for c in comments if c.kind.value == "reflection"],
        "action_steps": [_row(step) for step in steps],
        "shares": [_row(share) for share in shares],
        "deleted_lessons": [_row(t) for t in tombstones],
        "audit_events": [_row(event) for event in events],
        "class_list": [_row(name, "folded") for name in list_of(session, uid)],
    }


@dataclass(frozen=True)
class Erased:
    lessons: int
    clips: int
    comments_kept: int
    action_steps: int


def erase(
    session: Session,
    storage: Storage,
    data_dir: Path,
    user: User,
    *,
    actor_id: str,
    client: str = "",
) -> Erased:
    """Erase `user` as the module says; commits (each lesson in its own transaction)."""
    if user.id == actor_id:
        raise EraseRefusedError("erase_self", "An administrator cannot erase their own account.")
    uid = user.id
    lessons = list(session.scalars(select(Lesson).where(Lesson.owner_id == uid)))
    for lesson in lessons:
        delete_lesson(
            session, storage, lesson, actor_id=actor_id, reason=DeletionReason.erasure,
            client=client,
        )  # fmt: skip
    clips = list(session.scalars(select(Clip).where(Clip.author_id == uid)))
    clip_ids = [clip.id for clip in clips]
    step_ids = list(session.scalars(select(ActionStep.id).where(ActionStep.ect_id == uid)))
    share_ids = select(Share.id).where(or_(Share.recipient_id == uid, Share.clip_id.in_(clip_ids)))
    comment_ids = select(Comment.id).where(Comment.clip_id.in_(clip_ids))
    groups = select(EctGroup.id).where(EctGroup.owner_id == uid)
    model_share_ids = select(ModelShare.id).where(
        or_(
            ModelShare.ect_id == uid,
            ModelShare.clip_id.in_(clip_ids),
            ModelShare.group_id.in_(groups),
        )
    )
    named = [*session.scalars(share_ids), *session.scalars(comment_ids)]
    forget_reads(session, [uid, *step_ids, *named, *session.scalars(model_share_ids)])
    for clip in clips:
        for key in (clip.media_key, clip.captions_key):
            if key:
                storage.delete(key)
        session.execute(delete(ClipTag).where(ClipTag.clip_id == clip.id))
        session.delete(clip)
    steps = session.execute(delete(ActionStep).where(ActionStep.ect_id == uid))
    session.execute(delete(Share).where(Share.recipient_id == uid))
    session.execute(delete(ModelShare).where(ModelShare.ect_id == uid))
    session.execute(delete(EctGroupMember).where(EctGroupMember.ect_id == uid))
    session.execute(delete(EctGroup).where(EctGroup.owner_id == uid))  # and its model shares
    session.execute(delete(Collection).where(Collection.owner_id == uid))  # and its items
    session.execute(delete(Pairing).where(or_(Pairing.mentor_id == uid, Pairing.ect_id == uid)))
    session.execute(delete(Batch).where(Batch.owner_id == uid))
    session.execute(delete(NotificationRead).where(NotificationRead.user_id == uid))
    session.execute(delete(NotificationState).where(NotificationState.user_id == uid))
    session.execute(delete(PupilName).where(PupilName.owner_id == uid))  # their class list
    session.execute(delete(RevokedToken).where(RevokedToken.user_id == uid))  # all end below
    for upload in list(session.scalars(select(Upload).where(Upload.owner_id == uid))):
        discard(data_dir, upload.id, storage)
        session.delete(upload)
    kept = len(list(session.scalars(select(Comment.id).where(Comment.author_id == uid))))
    user.name = FORMER_NAME
    audit.forget_email(session, user.email, f"erased-{uid}@{ERASED_DOMAIN}")
    user.email = f"erased-{uid}@{ERASED_DOMAIN}"
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    user.active = False
    user.induction_start = None
    end_sessions(user)
    result = Erased(
        lessons=len(lessons),
        clips=len(clips),
        comments_kept=kept,
        action_steps=int(steps.rowcount or 0),  # type: ignore[attr-defined]
    )
    audit.record(
        session, actor_id, "user.erase", "user", uid, client=client,
        lessons=result.lessons, clips=result.clips, comments_kept=result.comments_kept,
        action_steps=result.action_steps,
    )  # fmt: skip
    session.commit()
    search.purge_deleted(session)  # the old name and email out of the database's files too
    return result
