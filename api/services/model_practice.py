"""Model practice: marking one's own clip (the owner's recorded consent), sharing it with paired
ECTs or an ECT group, an admin publishing it to the school's library, and ECT groups.

The rules are in models/model_practice.py's docstring; who may see a model clip is decided in
`models.access.clip_filter`, so the recording, captions and transcript are served, rendered
(blurred, sound only) and refused on consent exactly as for any shared clip.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, delete, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from api.schemas import (
    EctGroupBrief,
    EctGroupPublic,
    ModelClipPublic,
    ModelSharePublic,
    UserBrief,
)
from api.services.clips import render_for_recipient, user_brief
from api.services.errors import ConflictError, InvalidError
from api.services.shares import check_consent
from api.services.tags import tags_of
from models import audit
from models.access import NotAllowedError, NotVisibleError, clip_filter, is_mentor_of
from models.account import Role, User
from models.coaching import Clip, ClipTag
from models.db import utcnow
from models.lesson import Lesson
from models.model_practice import EctGroup, EctGroupMember, ModelClip, ModelShare
from models.queue import TaskQueue
from models.storage import Storage

# who may do what


def may_mark_model_practice(user: User) -> bool:
    """Mentors may; other adults when an admin allowed them; ECTs never."""
    return user.role == Role.mentor or (user.role != Role.ect and user.may_share_model_practice)


def _lesson_and_owner(session: Session, clip: Clip) -> tuple[Lesson, User]:
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - the foreign key cascades
    owner = session.get(User, lesson.owner_id)
    assert owner is not None  # noqa: S101 - the foreign key cascades
    return lesson, owner


def refuse_ect_lesson(owner: User) -> None:
    """An ECT's own lesson never reaches another ECT, so it is never model practice."""
    if owner.role == Role.ect:
        raise ConflictError(
            "This clip is of an ECT's lesson: an ECT's lessons are never shared with other ECTs "
            "as model practice.",
            "model_ect_lesson",
        )


def require_model_owner(session: Session, user: User, clip: Clip) -> Lesson:
    """The teacher who taught the lesson (and may share model practice) acts on its model clip."""
    lesson, owner = _lesson_and_owner(session, clip)
    refuse_ect_lesson(owner)
    if owner.id != user.id:
        raise NotAllowedError(
            "Only the teacher who taught the lesson may offer its clips as model practice.",
            code="model_not_own_lesson",
        )
    if not may_mark_model_practice(user):
        raise NotAllowedError(
            "Your account may not share model practice; an admin can allow it.",
            code="model_not_allowed",
        )
    return lesson


def marked(session: Session, clip: Clip) -> ModelClip:
    found = session.get(ModelClip, clip.id)
    if found is None:
        raise ConflictError("This clip is not marked as model practice yet.", "model_not_marked")
    return found


# marking (the owner's consent)


def mark(session: Session, user: User, clip: Clip, note: str, client: str) -> ModelClip:
    lesson = require_model_owner(session, user, clip)
    check_consent(lesson)
    model = session.get(ModelClip, clip.id)
    if model is None:
        model = ModelClip(clip_id=clip.id, consented_by=user.id, note=note)
        session.add(model)
    else:
        model.note = note
    audit.record(
        session, user.id, "model.mark", "clip", clip.id, client=client,
        consent="owner_marked_model_practice",
    )  # fmt: skip
    session.commit()
    return model


def unmark(session: Session, user: User, clip: Clip, client: str) -> None:
    """Withdraw the consent: every model share and the library entry end at once."""
    require_model_owner(session, user, clip)
    model = session.get(ModelClip, clip.id)
    if model is None:
        raise NotVisibleError("model clip")
    session.execute(delete(ModelShare).where(ModelShare.clip_id == clip.id))
    session.delete(model)
    audit.record(session, user.id, "model.unmark", "clip", clip.id, client=client)
    session.commit()


# sharing with ECTs


def share_public(session: Session, share: ModelShare) -> ModelSharePublic:
    group = session.get(EctGroup, share.group_id) if share.group_id else None
    return ModelSharePublic(
        id=share.id,
        clip_id=share.clip_id,
        ect=user_brief(session, share.ect_id),
        group=EctGroupBrief.model_validate(group) if group else None,
        shared_by=user_brief(session, share.shared_by),
        created_at=share.created_at,
        revoked_at=share.revoked_at,
        active=share.revoked_at is None,
    )


def shares_of(session: Session, user: User, clip: Clip) -> list[ModelSharePublic]:
    require_model_owner(session, user, clip)
    rows = session.scalars(
        select(ModelShare)
        .where(ModelShare.clip_id == clip.id)
        .order_by(ModelShare.created_at.desc(), ModelShare.id)
    )
    return [share_public(session, s) for s in rows]


def share(
    session: Session,
    storage: Storage,
    tasks: TaskQueue,
    user: User,
    clip: Clip,
    target: tuple[str | None, str | None],
    client: str,
) -> ModelShare:
    """Share the model clip with one paired ECT or a group (`target` is (ect_id, group_id));
    sharing again with the same one changes nothing. The render is queued for its viewers."""
    lesson = require_model_owner(session, user, clip)
    marked(session, clip)
    check_consent(lesson)
    ect_id, group_id = target
    if ect_id is not None and not is_mentor_of(session, user, ect_id):
        raise ConflictError(
            "You may share with your own paired ECTs, or with a group.", "model_not_paired"
        )
    if group_id is not None:
        visible_group(session, user, group_id)
    live = session.scalar(
        select(ModelShare).where(
            ModelShare.clip_id == clip.id,
            ModelShare.revoked_at.is_(None),
            ModelShare.ect_id == ect_id if ect_id else ModelShare.group_id == group_id,
        )
    )
    if live is not None:
        return live
    made = ModelShare(clip_id=clip.id, ect_id=ect_id, group_id=group_id, shared_by=user.id)
    session.add(made)
    session.flush()
    audit.record(
        session, user.id, "model.share", "clip", clip.id, client=client,
        model_share_id=made.id, ect_id=ect_id, group_id=group_id,
    )  # fmt: skip
    session.commit()
    render_for_recipient(session, storage, tasks, clip)
    return made


def revoke(session: Session, user: User, clip: Clip, share_id: str, client: str) -> None:
    require_model_owner(session, user, clip)
    found = session.get(ModelShare, share_id)
    if found is None or found.clip_id != clip.id:
        raise NotVisibleError("model share")
    if found.revoked_at is None:
        found.revoked_at = utcnow()
        audit.record(
            session, user.id, "model.revoke", "clip", clip.id, client=client,
            model_share_id=found.id,
        )  # fmt: skip
    session.commit()


# the school's library (an admin's)


def admin_model_clip(session: Session, user: User, clip_id: str) -> tuple[Clip, ModelClip]:
    """The clip an admin publishes or withdraws: they see records, not recordings, so it is found
    without `clip_filter`; it must be marked by its teacher (that mark is the recorded consent)."""
    if user.role != Role.admin:
        raise NotAllowedError(
            "Only an admin publishes to the school's library.", "model_admin_only"
        )
    clip = session.get(Clip, clip_id)
    if clip is None:
        raise NotVisibleError("clip")
    _, owner = _lesson_and_owner(session, clip)
    refuse_ect_lesson(owner)
    model = session.get(ModelClip, clip.id)
    if model is None:
        raise ConflictError(
            "Its teacher has not marked this clip as model practice: publishing another adult's "
            "lesson needs their consent, which marking it records.",
            "model_no_owner_consent",
        )
    return clip, model


def publish(
    session: Session, storage: Storage, tasks: TaskQueue, user: User, clip_id: str, client: str
) -> ModelClip:
    clip, model = admin_model_clip(session, user, clip_id)
    lesson, _ = _lesson_and_owner(session, clip)
    check_consent(lesson)
    if model.published_at is None:
        model.published_at, model.published_by = utcnow(), user.id
        audit.record(
            session, user.id, "model.publish", "clip", clip.id, client=client,
            consented_by=model.consented_by,
        )  # fmt: skip
    session.commit()
    render_for_recipient(session, storage, tasks, clip)
    return model


def withdraw(session: Session, user: User, clip_id: str, client: str) -> None:
    clip, model = admin_model_clip(session, user, clip_id)
    if model.published_at is None:
        raise NotVisibleError("library entry")
    model.published_at = model.published_by = None
    audit.record(session, user.id, "model.withdraw", "clip", clip.id, client=client)
    session.commit()


# reading


def model_public(
    session: Session, user: User, rows: Sequence[tuple[ModelClip, Clip, Lesson]]
) -> list[ModelClipPublic]:
    tags = tags_of(session, [clip.id for _, clip, _ in rows])
    return [
        ModelClipPublic(
            clip_id=clip.id,
            title=clip.title,
            lesson_title=lesson.title,
            teacher=user_brief(session, lesson.owner_id),
            note=model.note,
            duration=round(clip.end - clip.start, 3),
            tags=tags[clip.id],
            consent=lesson.consent,
            consented_at=model.consented_at,
            published_at=model.published_at,
            mine=lesson.owner_id == user.id,
        )
        for model, clip, lesson in rows
    ]


def model_clips(
    session: Session, user: User, *, scope: str, strand_id: str | None, q: str | None
) -> list[ModelClipPublic]:
    """Model clips the caller sees (an admin: every marked clip's record), newest mark first;
    `scope` narrows to the library, those shared with the caller, or the caller's own."""
    owner = aliased(User)
    query = (
        select(ModelClip, Clip, Lesson)
        .join(Clip, Clip.id == ModelClip.clip_id)
        .join(Lesson, Lesson.id == Clip.lesson_id)
        .join(owner, owner.id == Lesson.owner_id)
        .where(owner.role != Role.ect)
    )
    if user.role != Role.admin:  # clip_filter's conditions read Lesson, so they go apart
        seen = (
            select(Clip.id).join(ModelClip, ModelClip.clip_id == Clip.id).where(clip_filter(user))
        )
        query = query.where(Clip.id.in_(list(session.scalars(seen))))
    if scope == "library":
        query = query.where(ModelClip.published_at.is_not(None))
    elif scope == "shared":
        query = query.where(Lesson.owner_id != user.id)
    elif scope == "mine":
        query = query.where(Lesson.owner_id == user.id)
    if strand_id:
        query = query.where(
            select(ClipTag.clip_id)
            .where(ClipTag.clip_id == Clip.id, ClipTag.strand_id == strand_id)
            .exists()
        )
    if q:
        words = f"%{q.strip().lower()}%"
        query = query.where(or_(Clip.title.ilike(words), ModelClip.note.ilike(words)))
    rows = session.execute(query.order_by(ModelClip.consented_at.desc(), Clip.id))
    return model_public(session, user, [(m, c, lesson) for m, c, lesson in rows])


def one_model_clip(session: Session, user: User, clip: Clip) -> ModelClipPublic:
    lesson, _ = _lesson_and_owner(session, clip)
    return model_public(session, user, [(marked(session, clip), clip, lesson)])[0]


# ECT groups


def group_filter(user: User) -> ColumnElement[bool]:
    """The condition on `EctGroup` for groups `user` sees: an admin all; a mentor (or a teacher
    allowed to share model practice) their own and the admins' school-wide groups; ECTs none
    (a group lists other ECTs)."""
    if user.role == Role.admin:
        return true()
    if not may_mark_model_practice(user):
        return false()
    maker = aliased(User)
    by_admin = select(maker.id).where(maker.id == EctGroup.owner_id, maker.role == Role.admin)
    return or_(EctGroup.owner_id == user.id, by_admin.exists())


def visible_group(session: Session, user: User, group_id: str) -> EctGroup:
    found = session.scalar(select(EctGroup).where(EctGroup.id == group_id, group_filter(user)))
    if found is None:
        raise NotVisibleError("ECT group")
    return found


def require_group_maker(user: User) -> None:
    if user.role not in (Role.mentor, Role.admin):
        raise NotAllowedError("ECT groups are made by mentors and admins.", "group_maker_only")


def require_group_owner(user: User, group: EctGroup) -> None:
    if group.owner_id != user.id and user.role != Role.admin:
        raise NotAllowedError(
            "Only whoever made the group, or an admin, may change it.", "group_owner_only"
        )


def set_members(session: Session, group: EctGroup, ect_ids: list[str]) -> None:
    wanted = list(dict.fromkeys(ect_ids))
    ects = set(
        session.scalars(
            select(User.id).where(User.id.in_(wanted), User.role == Role.ect, User.active)
        )
    )
    if missing := [i for i in wanted if i not in ects]:
        raise InvalidError(
            f"Group members are active ECTs; {len(missing)} of those given are not.",
            "group_member_not_ect",
        )
    # members who stay keep their row: when they joined is when the group's shares were news
    leaving = and_(EctGroupMember.group_id == group.id, EctGroupMember.ect_id.not_in(wanted))
    session.execute(delete(EctGroupMember).where(leaving))
    staying = set(
        session.scalars(select(EctGroupMember.ect_id).where(EctGroupMember.group_id == group.id))
    )
    for ect_id in wanted:
        if ect_id not in staying:
            session.add(EctGroupMember(group_id=group.id, ect_id=ect_id))


def group_public(session: Session, group: EctGroup) -> EctGroupPublic:
    members = session.scalars(
        select(User)
        .join(EctGroupMember, EctGroupMember.ect_id == User.id)
        .where(EctGroupMember.group_id == group.id)
        .order_by(User.name, User.id)
    )
    return EctGroupPublic(
        id=group.id,
        name=group.name,
        owner=user_brief(session, group.owner_id),
        members=[UserBrief.model_validate(m) for m in members],
        created_at=group.created_at,
    )
