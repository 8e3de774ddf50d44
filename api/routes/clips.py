"""Clips of a lesson, their media and captions, strand tags, comments and shares."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import (
    AuthDep,
    ClipViewer,
    CurrentUser,
    SessionDep,
    SettingsDep,
    StorageDep,
    TaskQueueDep,
    client_of,
)
from api.errors import responses
from api.media import MEDIA_RESPONSES, NO_STORE, audit_content, serve_object
from api.routes.comments import comment_tree, edit_window, post_comment
from api.routes.lessons import no_transcript
from api.schemas import (
    ClipCreate,
    ClipPublic,
    ClipUpdate,
    CommentCreate,
    CommentPublic,
    MediaLinks,
    ShareCreate,
    SharePublic,
    TagCreate,
    TagPublic,
    TranscriptPublic,
    UserBrief,
)
from models import audit, queue
from models.access import (
    NotVisibleError,
    active_share,
    clip_filter,
    is_mentor_of,
    mentor_ids,
    require_clip_author,
    require_clip_coaching,
    require_clip_create,
    require_lesson_content,
    require_mentor_share,
    require_reflection_owner,
    visible_clip,
    visible_lesson,
)
from models.account import User
from models.accounts import issue_media_token
from models.blanks import lesson_blanks
from models.coaching import (
    MAX_CLIP_SECONDS,
    MIN_CLIP_SECONDS,
    Clip,
    ClipTag,
    Comment,
    RenderStatus,
    Share,
    clip_media_key,
    forget_render,
)
from models.consent import ConsentRefusedError, check_share, check_view, rendition_for
from models.db import utcnow
from models.framework import Strand, ensure_builtin
from models.lesson import Lesson, LessonStatus
from models.queue import TaskQueue
from models.retention import school_policy, share_deletes_on
from models.storage import Storage
from models.transcripts import transcript_words
from pipeline.redact import shown_clip_transcript
from pipeline.transcript import Transcript

router = APIRouter(prefix="/clips", tags=["clips"])

RENDER_STALE = timedelta(minutes=15)
RENDER_RETRY_AFTER_SECONDS = 3
"""A render queued longer ago than this is assumed lost (worker died) and is queued again."""


def user_brief(session: Session, user_id: str | None) -> UserBrief | None:
    user = session.get(User, user_id) if user_id else None
    return UserBrief.model_validate(user) if user else None


def tags_of(session: Session, clip_ids: Sequence[str]) -> dict[str, list[TagPublic]]:
    rows = session.execute(
        select(ClipTag, Strand)
        .join(Strand, Strand.id == ClipTag.strand_id)
        .where(ClipTag.clip_id.in_(clip_ids))
        .order_by(Strand.framework_id, Strand.position)
    )
    found: dict[str, list[TagPublic]] = {cid: [] for cid in clip_ids}
    for tag, strand in rows:
        found[tag.clip_id].append(
            TagPublic(
                strand_id=strand.id,
                framework_id=strand.framework_id,
                code=strand.code,
                title=strand.title,
                kind=strand.kind,
                tagged_at=tag.created_at,
            )
        )
    return found


def comment_counts(session: Session, clip_ids: Sequence[str]) -> dict[str, int]:
    rows = session.execute(
        select(Comment.clip_id, func.count())
        .where(Comment.clip_id.in_(clip_ids), Comment.deleted_at.is_(None))
        .group_by(Comment.clip_id)
    )
    counts = {cid: 0 for cid in clip_ids}
    counts.update({cid: n for cid, n in rows if cid is not None})
    return counts


def clip_public(session: Session, clips: Sequence[Clip]) -> list[ClipPublic]:
    ids = [c.id for c in clips]
    tags, counts = tags_of(session, ids), comment_counts(session, ids)
    lesson_ids = {c.lesson_id for c in clips}
    lessons = {
        lid: (title, consent, owner)
        for lid, title, consent, owner in session.execute(
            select(Lesson.id, Lesson.title, Lesson.consent, Lesson.owner_id).where(
                Lesson.id.in_(lesson_ids)
            )
        )
    }
    return [
        ClipPublic(
            id=c.id,
            lesson_id=c.lesson_id,
            lesson_title=lessons[c.lesson_id][0],
            consent=lessons[c.lesson_id][1],
            author=user_brief(session, c.author_id),
            title=c.title,
            note=c.note,
            start=c.start,
            end=c.end,
            duration=round(c.end - c.start, 3),
            word_start=c.word_start,
            word_end=c.word_end,
            render_status=c.render_status,
            render_error_code=c.render_error_code,
            render_error_message=c.render_error_message,
            created_at=c.created_at,
            updated_at=c.updated_at,
            tags=tags[c.id],
            comment_count=counts[c.id],
            reflection=c.author_id is not None and c.author_id == lessons[c.lesson_id][2],
        )
        for c in clips
    ]


def check_range(lesson: Lesson, start: float, end: float) -> None:
    """A clip lies inside the lesson, starts before it ends, and is 1 s to 10 min long."""
    duration = lesson.duration or 0.0
    if end <= start:
        raise HTTPException(
            422, f"The clip must start before it ends (start {start:.2f} s, end {end:.2f} s)."
        )
    if start < 0 or end > duration + 0.05:
        raise HTTPException(
            422,
            f"The clip ({start:.2f}-{end:.2f} s) must lie inside the lesson, which is "
            f"{duration:.2f} s long.",
        )
    if end - start < MIN_CLIP_SECONDS:
        raise HTTPException(
            422,
            f"The clip is {end - start:.2f} s long; clips must be at least "
            f"{MIN_CLIP_SECONDS:.0f} s.",
        )
    if end - start > MAX_CLIP_SECONDS:
        raise HTTPException(
            422,
            f"The clip is {end - start:.0f} s long; clips may be at most "
            f"{MAX_CLIP_SECONDS / 60:.0f} minutes.",
        )


def _ready_lesson(lesson: Lesson) -> None:
    if lesson.status != LessonStatus.ready or not lesson.duration:
        raise HTTPException(
            409, f"The lesson is {lesson.status.value}; clips can be made once it is ready."
        )


@router.post("", status_code=201, response_model=ClipPublic, responses=responses(403, 404, 409))
def create_clip(
    body: ClipCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    response: Response,
) -> ClipPublic:
    """Clip a lesson by seconds, or by an inclusive range of its transcript's words."""
    lesson = visible_lesson(session, user, body.lesson_id)
    require_clip_create(session, user, lesson)
    _ready_lesson(lesson)
    if body.word_start is not None and body.word_end is not None:
        key = lesson.artefact_key("transcript.json")
        if not storage.exists(key):
            raise HTTPException(409, "This lesson has no transcript to clip words from.")
        words = transcript_words(storage.get_bytes(key))
        if not body.word_start <= body.word_end < len(words):
            raise HTTPException(
                422,
                f"Word range {body.word_start}-{body.word_end} is outside the transcript, which "
                f"has {len(words)} words (indexes 0-{len(words) - 1}).",
            )
        start, end = words[body.word_start].start, words[body.word_end].end
    else:
        assert body.start is not None  # noqa: S101 - ClipCreate checked both are given
        assert body.end is not None  # noqa: S101 - narrows a type the code above guarantees
        start, end = body.start, body.end
    check_range(lesson, start, end)
    clip = Clip(
        lesson_id=lesson.id,
        author_id=user.id,
        title=body.title.strip(),
        note=body.note,
        start=round(start, 3),
        end=round(min(end, lesson.duration or end), 3),
        word_start=body.word_start,
        word_end=body.word_end,
    )
    session.add(clip)
    session.flush()
    audit.record(session, user.id, "clip.create", "clip", clip.id, client=client_of(request))
    session.commit()
    response.headers["Location"] = f"/api/v1/clips/{clip.id}"
    return clip_public(session, [clip])[0]


@router.get("", response_model=list[ClipPublic], responses=responses())
def list_clips(
    user: CurrentUser,
    session: SessionDep,
    lesson_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[ClipPublic]:
    """Clips you may see, newest first; `lesson_id` narrows to one lesson."""
    stmt = select(Clip).where(clip_filter(user))
    if lesson_id is not None:
        stmt = stmt.where(Clip.lesson_id == lesson_id)
    stmt = stmt.order_by(Clip.created_at.desc(), Clip.id).limit(limit).offset(offset)
    return clip_public(session, list(session.scalars(stmt)))


@router.get("/{clip_id}", response_model=ClipPublic, responses=responses(404))
def get_clip(clip_id: str, request: Request, user: CurrentUser, session: SessionDep) -> ClipPublic:
    clip = visible_clip(session, user, clip_id)
    if audit.record_view(session, user.id, "clip.view", "clip", clip.id, client=client_of(request)):
        session.commit()
    return clip_public(session, [clip])[0]


@router.patch("/{clip_id}", response_model=ClipPublic, responses=responses(403, 404))
def update_clip(
    clip_id: str, body: ClipUpdate, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> ClipPublic:
    """Change a clip's title, note or range (a new range is rendered afresh when asked for)."""
    clip = visible_clip(session, user, clip_id)
    require_clip_author(user, clip)
    if body.title is not None:
        clip.title = body.title.strip()
    if body.note is not None:
        clip.note = body.note
    if body.start is not None or body.end is not None:
        lesson = session.get(Lesson, clip.lesson_id)
        assert lesson is not None  # noqa: S101 - the foreign key cascades
        start = body.start if body.start is not None else clip.start
        end = body.end if body.end is not None else clip.end
        check_range(lesson, start, end)
        if (start, end) != (clip.start, clip.end):
            forget_render(storage, clip)
            clip.start, clip.end = round(start, 3), round(end, 3)
            clip.word_start = clip.word_end = None
    session.commit()
    return clip_public(session, [clip])[0]


@router.delete("/{clip_id}", status_code=204, responses=responses(403, 404))
def delete_clip(
    clip_id: str, request: Request, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> None:
    clip = visible_clip(session, user, clip_id)
    require_clip_author(user, clip)
    keys = [k for k in (clip.media_key, clip.captions_key) if k]
    session.delete(clip)
    audit.record(session, user.id, "clip.delete", "clip", clip_id, client=client_of(request))
    session.commit()
    for key in keys:
        storage.delete(key)


# media


def _check_consent_view(session: Session, user: User, clip: Clip) -> None:
    """409 for a viewer outside the coaching pair when the lesson's consent no longer allows
    the share they hold (consent narrowed after sharing)."""
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - the foreign key cascades
    coaching = is_mentor_of(session, user, lesson.owner_id)
    try:
        check_view(lesson.consent, coaching=coaching, has_audio=lesson.has_audio)
    except ConsentRefusedError as exc:
        raise HTTPException(409, str(exc)) from None


def _rendered_key(session: Session, clip: Clip, storage: Storage, which: str) -> str | None:
    """The stored file, if it was rendered for the clip's range as its consent now requires."""
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - the foreign key cascades
    rendition = rendition_for(lesson.consent, has_video=lesson.has_video)
    wanted = clip_media_key(lesson.id, clip.id, clip.start, clip.end, rendition)
    key = clip.media_key if which == "media" else clip.captions_key
    if (
        clip.render_status == RenderStatus.ready
        and clip.media_key == wanted
        and key
        and storage.exists(key)
    ):
        return key
    return None


def _request_render(session: Session, tasks: TaskQueue, clip: Clip) -> None:
    """Queue a render unless one is already on its way (and not stale)."""
    requested = clip.render_requested_at
    in_flight = clip.render_status in (RenderStatus.queued, RenderStatus.rendering)
    if in_flight and requested is not None and utcnow() - requested < RENDER_STALE:
        return
    clip.render_status = RenderStatus.queued
    clip.render_requested_at = utcnow()
    clip.render_error_code = clip.render_error_message = None
    session.commit()
    tasks.send(queue.RENDER_CLIP, clip.id)


def _rendered_or_503(
    session: Session, storage: Storage, tasks: TaskQueue, clip: Clip, which: str
) -> str:
    """The key of the rendered file, or a render is queued and the answer is 503 at once
    (with Retry-After; the review page asks again). Never waits inside the request."""
    key = _rendered_key(session, clip, storage, which)
    if key is not None:
        return key
    if clip.render_status == RenderStatus.failed:
        code, message = clip.render_error_code, clip.render_error_message
        _request_render(session, tasks, clip)  # a passing fault (storage, a worker) may clear
        raise HTTPException(409, f"The clip could not be made [{code}]: {message}")
    if clip.render_status == RenderStatus.ready:  # files went missing or consent changed
        clip.render_status = RenderStatus.none
    _request_render(session, tasks, clip)
    raise HTTPException(
        503,
        "The clip is still being made; try again in a few seconds.",
        headers={"Retry-After": str(RENDER_RETRY_AFTER_SECONDS)},
    )


@router.get(
    "/{clip_id}/media",
    response_class=Response,
    responses={**responses(404, 409, 503), **MEDIA_RESPONSES},
)
def get_clip_media(
    clip_id: str,
    request: Request,
    viewer: ClipViewer,
    session: SessionDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
) -> Response:
    """The clip as an MP4, rendered on first request; supports Range requests (206)."""
    user = viewer.user
    clip = visible_clip(session, user, clip_id)
    _check_consent_view(session, user, clip)
    key = _rendered_or_503(session, storage, tasks, clip, "media")
    audit_content(session, request, user.id, "clip.download", "clip", clip.id)
    return serve_object(storage, key, "video/mp4", no_store=viewer.by_link)


@router.get(
    "/{clip_id}/captions.vtt",
    response_class=Response,
    responses={**responses(404, 409, 503), 200: {"content": {"text/vtt": {}}}},
)
def get_clip_captions(
    clip_id: str,
    request: Request,
    viewer: ClipViewer,
    session: SessionDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
) -> Response:
    """The clip's captions as WebVTT, timed from the start of the clip."""
    user = viewer.user
    clip = visible_clip(session, user, clip_id)
    lesson = session.get(Lesson, clip.lesson_id)
    if lesson is not None and lesson.has_audio is False:
        raise HTTPException(409, "This recording has no sound, so the clip has no captions.")
    _check_consent_view(session, user, clip)
    key = _rendered_or_503(session, storage, tasks, clip, "captions")
    audit_content(session, request, user.id, "clip.captions", "clip", clip.id)
    return Response(
        storage.get_bytes(key),
        media_type="text/vtt; charset=utf-8",
        headers=NO_STORE if viewer.by_link else {"Cache-Control": "private"},
    )


@router.get("/{clip_id}/transcript", response_model=TranscriptPublic, responses=responses(404, 409))
def get_clip_transcript(
    clip_id: str, request: Request, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> dict[str, Any]:
    """What was said in the clip, timed from its start, with each word's probability (the
    review page marks the words the model was unsure of); blanked moments are left out, as
    in the captions."""
    clip = visible_clip(session, user, clip_id)
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - the foreign key cascades
    _check_consent_view(session, user, clip)
    key = lesson.artefact_key("transcript.json")
    if not storage.exists(key):
        raise no_transcript(lesson)
    transcript = Transcript.from_dict(json.loads(storage.get_bytes(key)))
    shown = shown_clip_transcript(
        transcript, lesson_blanks(session, lesson.id), clip.start, clip.end
    )
    audit_content(session, request, user.id, "clip.transcript", "clip", clip.id)
    return shown.to_dict()


@router.get("/{clip_id}/media-links", response_model=MediaLinks, responses=responses(404))
def get_clip_media_links(
    clip_id: str,
    request: Request,
    auth: AuthDep,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> MediaLinks:
    """Signed links to the clip's MP4 and captions for `<video>` and `<track>`, which cannot
    send the Authorization header. They work for minutes (`expires_in`) and for this clip only;
    ask again before then. Signing out or losing the share ends them."""
    clip = visible_clip(session, auth.user, clip_id)
    lesson = session.get(Lesson, clip.lesson_id)
    issued = issue_media_token(settings, auth.claims, f"clip:{clip.id}")
    base = f"{request.scope.get('root_path', '')}/api/v1/clips/{clip.id}"
    response.headers.update(NO_STORE)
    has_sound = lesson is None or lesson.has_audio is not False
    return MediaLinks(
        token=issued.token,
        expires_at=issued.expires_at,
        expires_in=max(0, int((issued.expires_at - utcnow()).total_seconds())),
        media=f"{base}/media?token={issued.token}",
        captions=f"{base}/captions.vtt?token={issued.token}" if has_sound else None,
    )


# tags


@router.get("/{clip_id}/tags", response_model=list[TagPublic], responses=responses(404))
def list_tags(clip_id: str, user: CurrentUser, session: SessionDep) -> list[TagPublic]:
    clip = visible_clip(session, user, clip_id)
    return tags_of(session, [clip.id])[clip.id]


@router.post("/{clip_id}/tags", response_model=list[TagPublic], responses=responses(403, 404))
def add_tags(
    clip_id: str, body: TagCreate, user: CurrentUser, session: SessionDep
) -> list[TagPublic]:
    """Tag the clip as evidence of practice in one or more strands (mentors of the ECT)."""
    clip = visible_clip(session, user, clip_id)
    require_clip_coaching(session, user, clip, "tag clips")
    ensure_builtin(session)
    wanted = list(dict.fromkeys(body.strand_ids))
    known = set(session.scalars(select(Strand.id).where(Strand.id.in_(wanted))))
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise HTTPException(
            422, f"Unknown strand ids: {', '.join(unknown)}. See GET /api/v1/frameworks."
        )
    present = set(session.scalars(select(ClipTag.strand_id).where(ClipTag.clip_id == clip.id)))
    for strand_id in wanted:
        if strand_id not in present:
            session.add(ClipTag(clip_id=clip.id, strand_id=strand_id, tagged_by=user.id))
    session.commit()
    return tags_of(session, [clip.id])[clip.id]


@router.delete("/{clip_id}/tags/{strand_id}", status_code=204, responses=responses(403, 404))
def remove_tag(clip_id: str, strand_id: str, user: CurrentUser, session: SessionDep) -> None:
    clip = visible_clip(session, user, clip_id)
    require_clip_coaching(session, user, clip, "tag clips")
    tag = session.get(ClipTag, (clip.id, strand_id))
    if tag is None:
        raise NotVisibleError("tag")
    session.delete(tag)
    session.commit()


# comments


@router.get("/{clip_id}/comments", response_model=list[CommentPublic], responses=responses(404))
def list_comments(
    clip_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> list[CommentPublic]:
    """Comments in clip time order, each with its replies (oldest first)."""
    clip = visible_clip(session, user, clip_id)
    rows = list(session.scalars(select(Comment).where(Comment.clip_id == clip.id)))
    return comment_tree(session, user, rows, edit_window(settings))


@router.post(
    "/{clip_id}/comments",
    status_code=201,
    response_model=CommentPublic,
    responses=responses(404, 409),
)
def add_comment(
    clip_id: str,
    body: CommentCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> CommentPublic:
    """Comment at a moment of the clip, or reply to a comment (the ECT answers and reflects)."""
    clip = visible_clip(session, user, clip_id)
    return post_comment(
        session, user, body, settings, client_of(request),
        on=("clip", clip.id), length=clip.end - clip.start,
    )  # fmt: skip


# shares


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


@router.get("/{clip_id}/shares", response_model=list[SharePublic], responses=responses(403, 404))
def list_shares(clip_id: str, user: CurrentUser, session: SessionDep) -> list[SharePublic]:
    clip = visible_clip(session, user, clip_id)
    require_clip_coaching(session, user, clip, "see a clip's shares")
    rows = session.scalars(
        select(Share).where(Share.clip_id == clip.id).order_by(Share.created_at.desc())
    )
    return [share_public(session, s) for s in rows]


@router.post(
    "/{clip_id}/shares",
    status_code=201,
    response_model=SharePublic,
    responses=responses(403, 404, 409),
)
def share_clip(
    clip_id: str,
    body: ShareCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
) -> SharePublic:
    """Share the clip with the ECT whose lesson it is, until a date or until revoked."""
    clip = visible_clip(session, user, clip_id)
    require_clip_coaching(session, user, clip, "share clips")
    require_mentor_share(session, clip)
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - coaching implies a lesson with an ECT owner
    assert lesson.owner_id is not None  # noqa: S101 - narrows a type the code above guarantees
    require_lesson_content(user, lesson)
    check_consent(lesson)
    share = share_with(session, request, user, clip, lesson.owner_id, _future(body.until))
    session.commit()
    _render_for_recipient(session, storage, tasks, clip)
    return share_public(session, share)


def check_consent(lesson: Lesson) -> None:
    try:
        check_share(lesson.consent, has_audio=lesson.has_audio)
    except ConsentRefusedError as exc:
        raise HTTPException(409, str(exc)) from None


def _render_for_recipient(session: Session, storage: Storage, tasks: TaskQueue, clip: Clip) -> None:
    """Ready by the time the recipient opens it, not on first view."""
    if _rendered_key(session, clip, storage, "media") is None:
        _request_render(session, tasks, clip)


def _future(until: datetime | None) -> datetime | None:
    if until is not None and until <= utcnow():
        raise HTTPException(422, "`until` must be in the future.")
    return until


def share_with(
    session: Session,
    request: Request,
    user: User,
    clip: Clip,
    recipient_id: str,
    until: datetime | None,
) -> Share:
    """The clip's active share with `recipient_id`, made or given the new end; audited."""
    existing = session.scalar(
        select(Share).where(
            Share.clip_id == clip.id, Share.recipient_id == recipient_id, active_share()
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
        session, user.id, "share.create", "clip", clip.id, client=client_of(request),
        share_id=share.id, recipient_id=recipient_id,
        until=until.isoformat() if until else None,
    )  # fmt: skip
    return share


@router.post(
    "/{clip_id}/share-with-mentor",
    status_code=201,
    response_model=list[SharePublic],
    responses=responses(403, 404, 409),
)
def share_with_mentor(
    clip_id: str,
    body: ShareCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
) -> list[SharePublic]:
    """Share your own clip of your own lesson (and its note, tags and comments) with the
    mentors you are paired with; until then it is private to you. Revoke each share as usual."""
    clip = visible_clip(session, user, clip_id)
    require_reflection_owner(session, user, clip)
    mentors = mentor_ids(session, user.id)
    if not mentors:
        raise HTTPException(409, "You have no mentor yet: ask your induction lead to pair you.")
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - a reflection has its lesson (foreign key)
    check_consent(lesson)
    until = _future(body.until)
    shares = [share_with(session, request, user, clip, m, until) for m in mentors]
    session.commit()
    _render_for_recipient(session, storage, tasks, clip)
    return [share_public(session, s) for s in shares]


@router.delete("/{clip_id}/shares/{share_id}", status_code=204, responses=responses(403, 404, 409))
def revoke_share(
    clip_id: str, share_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> None:
    """Revoke a share: the clip leaves the ECT's feed at once."""
    clip = visible_clip(session, user, clip_id)
    require_clip_coaching(session, user, clip, "revoke shares")
    share = session.get(Share, share_id)
    if share is None or share.clip_id != clip.id:
        raise NotVisibleError("share")
    if share.revoked_at is None:
        share.revoked_at = utcnow()
        share.revoked_by = user.id
        audit.record(
            session, user.id, "share.revoke", "clip", clip.id,
            client=client_of(request), share_id=share.id,
        )  # fmt: skip
        session.commit()
