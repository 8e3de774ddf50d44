"""Who sees what: the one place that decides, as query filters every route goes through.

Lessons a user can see (`lesson_filter`):
    everyone        lessons they uploaded (owner)
    mentor          lessons of the ECTs paired with them
    coach           lessons in batches they submitted (rules added by `add_lesson_rule`)
    admin           every lesson's record, to manage retention, but not its content

Lesson comments (`visible_lesson_comments`): whoever may read the lesson's transcript (its owner,
a mentor paired with them, the coach whose batch holds it); never an admin, who sees only the
record, and never another ECT.

Clips a user can see (`clip_filter`):
    owner           the clips they made of their own lessons (self-reflection)
    mentor          clips a mentor made on lessons of the ECTs paired with them, and the ECT's
                    own clips that the ECT shared with them ("share with my mentor") while the
                    pairing lasts
    anyone else     clips shared with them by an active share (not revoked, not expired)
A mentor's clip is their working note until shared: the ECT who owns the lesson sees it only
through a share, and a mentor's share always goes to the lesson's owner. An ECT's own clip is
private until they share it with their mentor, and those shares go only to their paired mentors.
So no ECT ever sees another ECT's recording by any route.

Action steps (`action_step_filter`): an ECT's steps are seen by that ECT, the mentors paired with
them and admins, no one else. Their mentor (or an admin) sets, edits, closes and carries them;
the ECT alone marks one practised. A step's clips must be clips its setter sees and that the ECT
sees or that are of the ECT's lessons; its evidence, a clip the ECT made of their own lesson.

What cannot be seen does not exist for the caller (NotVisibleError -> 404), so ids reveal
nothing. A visible thing the caller may not change or use raises NotAllowedError (-> 403).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, ScalarSelect, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass

from models.account import Pairing, Role, User
from models.action_steps import ActionStep
from models.coaching import Clip, Comment, Share
from models.db import utcnow
from models.lesson import Lesson
from models.model_practice import EctGroupMember, ModelClip, ModelShare
from models.upload import Upload


class AccessError(Exception):
    pass


class NotVisibleError(AccessError):
    """The thing does not exist or the caller may not know that it does. `code` names what was
    not found (`clip_not_found`), the same whichever of the two it is, so a page can say so in
    plain words without learning which."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"{kind} not found")
        self.kind = kind
        self.code = "_".join(kind.lower().split()) + "_not_found"


class NotAllowedError(AccessError):
    """The caller can see the thing but their role may not do this to it; `code` names the
    refusal for clients that act on it (answered beside the detail)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


LessonRule = Callable[[User], ColumnElement[bool] | None]
_extra_lesson_rules: list[LessonRule] = []


def add_lesson_rule(rule: LessonRule) -> None:
    """Let another feature widen lesson visibility, e.g. a coach's batches.

    `rule(user)` returns a condition on `Lesson` (or None when it does not apply to the user); a
    lesson is visible when any rule holds. Features register their rules at app start-up
    (`api.app.create_app`).
    """
    if rule not in _extra_lesson_rules:
        _extra_lesson_rules.append(rule)


def paired_ect_ids(user: User) -> ScalarSelect[str]:
    return select(Pairing.ect_id).where(Pairing.mentor_id == user.id).scalar_subquery()


def lesson_filter(user: User) -> ColumnElement[bool]:
    """The condition on `Lesson` for lessons whose record `user` may see."""
    if user.role == Role.admin:
        return true()
    conditions: list[ColumnElement[bool]] = [Lesson.owner_id == user.id]
    if user.role == Role.mentor:
        conditions.append(Lesson.owner_id.in_(paired_ect_ids(user)))
    for rule in _extra_lesson_rules:
        condition = rule(user)
        if condition is not None:
            conditions.append(condition)
    return or_(*conditions)


def lesson_content_filter(user: User) -> ColumnElement[bool]:
    """The condition on `Lesson` for lessons whose content (recording, transcript) `user` may
    read: those they see, less what an admin sees only as a record (`require_lesson_content`)."""
    if user.role == Role.admin:
        return Lesson.owner_id == user.id
    return lesson_filter(user)


def active_share(now: datetime | None = None) -> ColumnElement[bool]:
    """The condition on `Share` for a share that is neither revoked nor expired."""
    now = now or utcnow()
    return and_(Share.revoked_at.is_(None), or_(Share.until.is_(None), Share.until > now))


def by_lesson_owner() -> ColumnElement[bool]:
    """The condition, inside a query over `Lesson` and `Clip`, for a clip its lesson's owner
    made (self-reflection), which stays private to them until they share it."""
    return and_(Clip.author_id.is_not(None), Clip.author_id == Lesson.owner_id)


def model_share_reaches(user: User) -> ColumnElement[bool]:
    """The condition on `ModelShare` for a live model share that reaches `user`: made to them,
    or to a group they are in now. Whether its clip may be seen is `model_clip_seen`'s."""
    in_group = select(EctGroupMember.group_id).where(EctGroupMember.ect_id == user.id)
    return and_(
        ModelShare.revoked_at.is_(None),
        or_(ModelShare.ect_id == user.id, ModelShare.group_id.in_(in_group)),
    )


def model_clip_seen(user: User) -> ColumnElement[bool]:
    """The condition on `Clip` for a model clip (models.model_practice) shown to `user`: in the
    school's library, or shared with them or with a group they are in. Never of an ECT's lesson,
    whatever the rows say: an ECT's lesson reaches no other ECT."""
    shared_with_user = (
        exists()
        .where(ModelShare.clip_id == ModelClip.clip_id, model_share_reaches(user))
        .correlate(ModelClip)
    )
    lesson, owner = aliased(Lesson), aliased(User)
    not_an_ects_lesson = (
        exists()
        .where(lesson.id == Clip.lesson_id, lesson.owner_id == owner.id, owner.role != Role.ect)
        .correlate(Clip)
    )
    return (
        exists()
        .where(
            ModelClip.clip_id == Clip.id,
            or_(ModelClip.published_at.is_not(None), shared_with_user),
            not_an_ects_lesson,
        )
        .correlate(Clip)
    )


class ModelShareReach(NamedTuple):
    share: ModelShare
    clip: Clip
    reached_at: datetime
    """When it became news to the user: when it was shared, or, for a group's share, when they
    joined the group if that was later."""


def model_shares_to(session: Session, user: User) -> list[ModelShareReach]:
    """The live model shares that reach `user` and whose clip they may see, one per clip (the
    one that reached them last: a clip shared with them and with their group is one thing to
    them), newest first. What the feed lists and the notifications announce. Joining a group
    is news of its current shares; one who leaves it is reached by none of them."""
    member = aliased(EctGroupMember)
    rows = session.execute(
        select(ModelShare, Clip, member.added_at)
        .join(Clip, Clip.id == ModelShare.clip_id)
        .outerjoin(member, and_(member.group_id == ModelShare.group_id, member.ect_id == user.id))
        .where(model_share_reaches(user), model_clip_seen(user))
    )
    reached = [
        ModelShareReach(share, clip, max(share.created_at, joined or share.created_at))
        for share, clip, joined in rows
    ]
    reached.sort(key=lambda r: (r.reached_at, r.share.created_at, r.share.id), reverse=True)
    newest: dict[str, ModelShareReach] = {}
    for reach in reached:
        newest.setdefault(reach.clip.id, reach)
    return list(newest.values())


def clip_filter(user: User, now: datetime | None = None) -> ColumnElement[bool]:
    """The condition on `Clip` for clips `user` may see."""
    if user.role == Role.admin:
        return false()
    shared = (
        exists()
        .where(Share.clip_id == Clip.id, Share.recipient_id == user.id, active_share(now))
        .correlate(Clip)
    )
    own_reflection = and_(
        Clip.author_id == user.id,
        exists().where(Lesson.id == Clip.lesson_id, Lesson.owner_id == user.id),
    )
    if user.role == Role.mentor:
        on_paired = and_(Lesson.id == Clip.lesson_id, Lesson.owner_id.in_(paired_ect_ids(user)))
        coached = exists().where(on_paired, ~by_lesson_owner())
        reflection_shared = exists().where(on_paired, by_lesson_owner(), shared)
        return or_(coached, reflection_shared, own_reflection, model_clip_seen(user))
    return or_(shared, own_reflection, model_clip_seen(user))


def _private_from(
    user: User, comment: type[Comment] | AliasedClass[Comment]
) -> ColumnElement[bool]:
    """`comment` is an ECT's on a clip of someone else's lesson (a model clip) and `user` is
    not among its readers: the ECT, the lesson's owner and the ECT's mentors."""
    author, clip, lesson = aliased(User), aliased(Clip), aliased(Lesson)
    return exists().where(
        author.id == comment.author_id,
        author.role == Role.ect,
        clip.id == comment.clip_id,
        lesson.id == clip.lesson_id,
        lesson.owner_id != author.id,
        author.id != user.id,
        lesson.owner_id != user.id,
        author.id.not_in(paired_ect_ids(user)),
    )


def comment_filter(user: User) -> ColumnElement[bool]:
    """The condition on `Comment` for comments `user` may read among those on a clip they see.

    Several ECTs see one model clip; what one of them writes on it (a reflection, a question)
    stays between them, the clip's teacher and their own mentor, and so do the replies to it."""
    parent = aliased(Comment)
    hidden_parent = exists().where(parent.id == Comment.parent_id, _private_from(user, parent))
    return and_(~_private_from(user, Comment), ~hidden_parent)


def readable_comment(user: User) -> ColumnElement[bool]:
    """The condition on `Comment` for a comment `user` reads (on a clip or lesson they see):
    `comment_filter`, less those removed by their author (kept only as a stand-in for their
    replies). Every comment count shown counts exactly these."""
    return and_(comment_filter(user), Comment.deleted_at.is_(None))


def visible_lesson(session: Session, user: User, lesson_id: str) -> Lesson:
    lesson = session.scalar(select(Lesson).where(Lesson.id == lesson_id, lesson_filter(user)))
    if lesson is None:
        raise NotVisibleError("lesson")
    return lesson


def visible_clip(session: Session, user: User, clip_id: str) -> Clip:
    clip = session.scalar(select(Clip).where(Clip.id == clip_id, clip_filter(user)))
    if clip is None:
        raise NotVisibleError("clip")
    return clip


def visible_lesson_comments(session: Session, user: User, lesson_id: str) -> Lesson:
    """The lesson whose comments `user` may read and add to: those who read its transcript."""
    lesson = visible_lesson(session, user, lesson_id)
    require_lesson_content(user, lesson)
    return lesson


def visible_comment(session: Session, user: User, comment_id: str) -> Comment:
    """A comment is visible exactly when the clip or lesson it is on is visible for comments."""
    comment = session.scalar(select(Comment).where(Comment.id == comment_id, comment_filter(user)))
    if comment is None:
        raise NotVisibleError("comment")
    try:
        if comment.clip_id is not None:
            visible_clip(session, user, comment.clip_id)
        elif comment.lesson_id is not None:
            visible_lesson_comments(session, user, comment.lesson_id)
    except AccessError:
        raise NotVisibleError("comment") from None
    return comment


def own_upload(session: Session, user: User, upload_id: str) -> Upload:
    upload = session.get(Upload, upload_id)
    if upload is None or upload.owner_id != user.id:
        raise NotVisibleError("upload")
    return upload


def is_mentor_of(session: Session, user: User, ect_id: str | None) -> bool:
    if user.role != Role.mentor or ect_id is None:
        return False
    found = session.scalar(
        select(Pairing.id).where(Pairing.mentor_id == user.id, Pairing.ect_id == ect_id)
    )
    return found is not None


# what a visible thing's viewer may do


def require_uploader(user: User) -> None:
    if user.role == Role.admin:
        raise NotAllowedError("Administrators manage accounts; they do not upload lessons.")


def require_lesson_content(user: User, lesson: Lesson) -> None:
    """Watching a recording (media, transcript, pictures) is for those who coach or own it."""
    if user.role == Role.admin and lesson.owner_id != user.id:
        raise NotAllowedError(
            "Administrators manage lesson records but do not watch recordings or read transcripts."
        )


def require_transcription_control(user: User, lesson: Lesson) -> None:
    """Re-running or switching off transcription is for those who see the lesson's content:
    its owner, a mentor paired with them, the coach whose batch holds it (not an admin, who sees
    only the record)."""
    if user.role == Role.admin and lesson.owner_id != user.id:
        raise NotAllowedError(
            "Administrators manage lesson records; the lesson's owner, their mentor or the coach "
            "who submitted it may change how it is transcribed."
        )


def require_transcript_edit(session: Session, user: User, lesson: Lesson) -> None:
    """Correcting a transcript, or going back to an earlier version, is for the lesson's owner
    and a mentor paired with them: the people who quote it to each other."""
    if lesson.owner_id != user.id and not is_mentor_of(session, user, lesson.owner_id):
        raise NotAllowedError("Only the lesson's owner or their mentor may correct its transcript.")


def require_transcript_delete(user: User, lesson: Lesson) -> None:
    if lesson.owner_id != user.id:
        raise NotAllowedError("Only the person who uploaded a lesson may delete its transcripts.")


def require_lesson_delete(user: User, lesson: Lesson) -> None:
    if lesson.owner_id != user.id and user.role != Role.admin:
        raise NotAllowedError("Only the person who uploaded a lesson or an admin may delete it.")


def require_blank(user: User, lesson: Lesson) -> None:
    """Blanking a moment is for the lesson's owner, their mentor (who sees it only when paired)
    or an admin."""
    if lesson.owner_id != user.id and user.role not in (Role.admin, Role.mentor):
        raise NotAllowedError(
            "Only the lesson's teacher, their mentor or an admin may blank a moment of it."
        )


def require_keep_until(user: User, lesson: Lesson) -> None:
    """Keeping a lesson past the school's retention date is its owner's or an admin's call."""
    if lesson.owner_id != user.id and user.role != Role.admin:
        raise NotAllowedError(
            "Only the person who uploaded a lesson or an admin may keep it past its date."
        )


def require_transcript_keep_until(user: User) -> None:
    """Keeping transcripts past the school's transcript date is an admin's call only: the
    school set the shorter period for the words pupils said."""
    if user.role != Role.admin:
        raise NotAllowedError("Only an admin may keep a lesson's transcripts past their date.")


def require_consent_change(user: User, lesson: Lesson) -> None:
    """The pupils' consent is recorded by the teacher who filmed them or the school's admin."""
    if lesson.owner_id != user.id and user.role != Role.admin:
        raise NotAllowedError(
            "Only the person who uploaded a lesson or an admin may change its consent state."
        )


def require_clip_create(session: Session, user: User, lesson: Lesson) -> None:
    """A lesson's owner clips it to reflect on it; a mentor paired with them clips it to coach."""
    if lesson.owner_id == user.id and user.role != Role.admin:
        return
    if not is_mentor_of(session, user, lesson.owner_id):
        raise NotAllowedError(
            "Only the teacher who taught the lesson or a mentor paired with them may make clips "
            "of it."
        )


def require_comment_author(user: User, comment: Comment) -> None:
    if comment.author_id != user.id:
        raise NotAllowedError(
            "Only the person who wrote this comment may change or delete it.",
            code="comment_not_author",
        )


def require_clip_author(user: User, clip: Clip) -> None:
    if clip.author_id != user.id:
        raise NotAllowedError("Only the person who made this clip may change or delete it.")


def is_reflection(session: Session, clip: Clip) -> bool:
    """Whether the clip was made by its lesson's owner (their own reflection, not coaching)."""
    lesson = session.get(Lesson, clip.lesson_id)
    return lesson is not None and clip.author_id is not None and clip.author_id == lesson.owner_id


def require_clip_coaching(session: Session, user: User, clip: Clip, what: str) -> None:
    """Tagging and sharing a mentor's clip are for mentors paired with the clip's ECT; on an
    ECT's own clip, for that ECT alone (their mentor comments on it once it is shared)."""
    if is_reflection(session, clip):
        if clip.author_id != user.id:
            raise NotAllowedError(f"Only the teacher who made this clip may {what}.")
        return
    lesson = session.get(Lesson, clip.lesson_id)
    if lesson is None or not is_mentor_of(session, user, lesson.owner_id):
        raise NotAllowedError(f"Only a mentor paired with the lesson's ECT may {what}.")


def require_mentor_share(session: Session, clip: Clip) -> None:
    """A share to the lesson's owner is a mentor's; the owner's own clip goes to their mentor."""
    if is_reflection(session, clip):
        raise NotAllowedError(
            "This is your own clip: share it with your mentor (POST .../share-with-mentor)."
        )


def require_reflection_owner(session: Session, user: User, clip: Clip) -> None:
    if not is_reflection(session, clip) or clip.author_id != user.id:
        raise NotAllowedError(
            "Only the teacher who made a clip of their own lesson may share it with their mentor."
        )


def mentor_ids(session: Session, ect_id: str) -> list[str]:
    return list(
        session.scalars(
            select(Pairing.mentor_id).where(Pairing.ect_id == ect_id).order_by(Pairing.created_at)
        )
    )


def sees_pupil_names(session: Session, user: User, lesson: Lesson) -> bool:
    """Whether `user` reads a lesson's words with the pupils' names in them: its owner, a
    mentor paired with them, an admin. Everyone else who may read its words (an ECT shown a
    clip of another teacher's lesson, a coach whose batch holds it) reads [pupil] instead
    (models/pupilnames.py, pipeline/pupilnames.py)."""
    return (
        lesson.owner_id == user.id
        or user.role == Role.admin
        or is_mentor_of(session, user, lesson.owner_id)
    )


def require_admin(user: User) -> None:
    if user.role != Role.admin:
        raise NotAllowedError("This needs an administrator.")


# action steps


def action_step_filter(user: User) -> ColumnElement[bool]:
    """The condition on `ActionStep` for steps `user` may see."""
    if user.role == Role.admin:
        return true()
    if user.role == Role.mentor:
        return ActionStep.ect_id.in_(paired_ect_ids(user))
    if user.role == Role.ect:
        return ActionStep.ect_id == user.id
    return false()


def visible_action_step(session: Session, user: User, step_id: str) -> ActionStep:
    step = session.scalar(
        select(ActionStep).where(ActionStep.id == step_id, action_step_filter(user))
    )
    if step is None:
        raise NotVisibleError("action step")
    return step


def visible_ect(session: Session, user: User, ect_id: str) -> User:
    """An ECT whose steps and rhythm `user` may see: themself, a paired mentor's, any (admin)."""
    ect = session.get(User, ect_id)
    allowed = ect is not None and (
        ect.id == user.id or user.role == Role.admin or is_mentor_of(session, user, ect.id)
    )
    if ect is None or not allowed or ect.role != Role.ect:
        raise NotVisibleError("ECT")
    return ect


def require_step_setter(session: Session, user: User, ect_id: str) -> None:
    """Setting and reviewing an ECT's steps is for their paired mentors and admins."""
    if user.role != Role.admin and not is_mentor_of(session, user, ect_id):
        raise NotAllowedError(
            "Only the ECT's mentor or an admin sets and reviews action steps.",
            code="action_step_mentor_only",
        )


def require_step_ect(user: User, step: ActionStep) -> None:
    if step.ect_id != user.id:
        raise NotAllowedError(
            "Only the ECT whose action step it is marks it practised.",
            code="action_step_ect_only",
        )


def step_clips_refused(session: Session, setter: User, ect: User, clip_ids: list[str]) -> list[str]:
    """Those of `clip_ids` a step set by `setter` for `ect` may not name."""
    if not clip_ids:
        return []
    ect_lesson = exists().where(Lesson.id == Clip.lesson_id, Lesson.owner_id == ect.id)
    condition = or_(clip_filter(ect), ect_lesson)
    if setter.role != Role.admin:
        condition = and_(condition, clip_filter(setter))
    fine = set(session.scalars(select(Clip.id).where(Clip.id.in_(clip_ids), condition)))
    return [c for c in clip_ids if c not in fine]


def evidence_allowed(session: Session, ect: User, clip_id: str) -> bool:
    """Evidence is a clip the ECT made of their own lesson (a later one, showing the step)."""
    found = session.scalar(
        select(Clip.id)
        .join(Lesson, Lesson.id == Clip.lesson_id)
        .where(Clip.id == clip_id, Lesson.owner_id == ect.id, Clip.author_id == ect.id)
    )
    return found is not None
