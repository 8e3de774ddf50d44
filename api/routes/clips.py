"""Clips of a lesson, their media and captions. Tags, comments and shares of a clip have
their own routers (`tags`, `comments`, `shares`); the work is in `api.services.clips`."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.analytics import public as analytics_public
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
from api.schemas import (
    AnalyticsPublic,
    ClipCreate,
    ClipPublic,
    ClipUpdate,
    MediaLinks,
    TranscriptPublic,
)
from api.services.clips import (
    change_range,
    check_consent_view,
    check_range,
    clip_public,
    rendered_or_queue,
    require_ready_lesson,
    word_range,
)
from api.services.lessons import clip_analytics, no_transcript
from api.services.pupilnames import hidden_names, shown_analytics
from models import audit
from models.access import (
    clip_filter,
    require_clip_author,
    require_clip_create,
    visible_clip,
    visible_lesson,
)
from models.accounts import issue_media_token
from models.blanks import lesson_blanks
from models.coaching import Clip
from models.db import utcnow
from models.lesson import Lesson
from models.storage import Storage
from pipeline.captions import to_vtt
from pipeline.pupilnames import NameList
from pipeline.redact import shown_clip_transcript
from pipeline.transcript import Transcript

router = APIRouter(prefix="/clips", tags=["clips"])


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
    require_ready_lesson(lesson)
    if body.word_start is not None and body.word_end is not None:
        start, end = word_range(storage, lesson, body.word_start, body.word_end)
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
    return clip_public(session, user, [clip])[0]


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
    return clip_public(session, user, list(session.scalars(stmt)))


@router.get("/{clip_id}", response_model=ClipPublic, responses=responses(404))
def get_clip(clip_id: str, request: Request, user: CurrentUser, session: SessionDep) -> ClipPublic:
    clip = visible_clip(session, user, clip_id)
    if audit.record_view(session, user.id, "clip.view", "clip", clip.id, client=client_of(request)):
        session.commit()
    return clip_public(session, user, [clip])[0]


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
        change_range(session, storage, clip, body.start, body.end)
    session.commit()
    return clip_public(session, user, [clip])[0]


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
    check_consent_view(session, user, clip)
    key = rendered_or_queue(session, storage, tasks, clip, "media")
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
    """The clip's captions as WebVTT, timed from the start of the clip; pupils' names on the
    class list are [pupil] for viewers outside the coaching pair (as in its transcript)."""
    user = viewer.user
    clip = visible_clip(session, user, clip_id)
    lesson = session.get(Lesson, clip.lesson_id)
    if lesson is not None and lesson.has_audio is False:
        raise HTTPException(409, "This recording has no sound, so the clip has no captions.")
    check_consent_view(session, user, clip)
    key = rendered_or_queue(session, storage, tasks, clip, "captions")
    names = hidden_names(session, user, lesson) if lesson is not None else None
    vtt = storage.get_bytes(key)
    if names is not None and lesson is not None:
        vtt = _redacted_captions(session, storage, lesson, clip, names)
    audit_content(session, request, user.id, "clip.captions", "clip", clip.id)
    return Response(
        vtt,
        media_type="text/vtt; charset=utf-8",
        headers=NO_STORE if viewer.by_link else {"Cache-Control": "private"},
    )


def _redacted_captions(
    session: Session, storage: Storage, lesson: Lesson, clip: Clip, names: NameList
) -> bytes:
    """The clip's captions made from the lesson's transcript by the one rule
    (`shown_clip_transcript`), for a viewer from whom the names are hidden."""
    key = lesson.artefact_key("transcript.json")
    if not storage.exists(key):
        return b"WEBVTT\n\n"
    transcript = Transcript.from_dict(json.loads(storage.get_bytes(key)))
    blanks = lesson_blanks(session, lesson.id)
    return to_vtt(shown_clip_transcript(transcript, blanks, clip.start, clip.end, names)).encode()


@router.get("/{clip_id}/transcript", response_model=TranscriptPublic, responses=responses(404, 409))
def get_clip_transcript(
    clip_id: str, request: Request, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> dict[str, Any]:
    """What was said in the clip, timed from its start, with each word's probability (the
    review page marks the words the model was unsure of); blanked moments are left out, as
    in the captions, and pupils' names are [pupil] for viewers outside the coaching pair."""
    clip = visible_clip(session, user, clip_id)
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - the foreign key cascades
    check_consent_view(session, user, clip)
    key = lesson.artefact_key("transcript.json")
    if not storage.exists(key):
        raise no_transcript(lesson)
    transcript = Transcript.from_dict(json.loads(storage.get_bytes(key)))
    shown = shown_clip_transcript(
        transcript,
        lesson_blanks(session, lesson.id),
        clip.start,
        clip.end,
        hidden_names(session, user, lesson),
    )
    audit_content(session, request, user.id, "clip.transcript", "clip", clip.id)
    return shown.to_dict()


@router.get("/{clip_id}/analytics", response_model=AnalyticsPublic, responses=responses(404, 409))
def get_clip_analytics(
    clip_id: str, request: Request, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> AnalyticsPublic:
    """The lesson's talk analytics over the clip's span, timed from its start: for whoever may
    read the clip's transcript (its ECT through a share too), under the same consent rule, and
    audited like it (the questions are its words). Evidence for a conversation, never a score."""
    clip = visible_clip(session, user, clip_id)
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - the foreign key cascades
    check_consent_view(session, user, clip)
    result = shown_analytics(
        clip_analytics(storage, lesson, lesson_blanks(session, lesson.id), clip.start, clip.end),
        hidden_names(session, user, lesson),
    )
    audit_content(session, request, user.id, "clip.analytics", "clip", clip.id)
    return analytics_public(result)


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
