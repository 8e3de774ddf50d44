"""Lessons: create from a finished upload (or one multipart request), list, read, delete, and
everything processing made: transcript, segments, thumbnails track, poster, media."""

from __future__ import annotations

import errno
import json
import shutil
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.datastructures import UploadFile

from api.analytics import public as analytics_public
from api.bodies import close_form, read_body, read_form
from api.deps import (
    AuthDep,
    CurrentUser,
    LessonViewer,
    SessionDep,
    SettingsDep,
    StorageDep,
    TaskQueueDep,
    Viewer,
    client_of,
)
from api.errors import no_space, responses
from api.media import MEDIA_RESPONSES, NO_STORE, audit_content, serve_object
from api.schemas import (
    AnalyticsPublic,
    LessonCreate,
    LessonPublic,
    MediaLinks,
    SegmentPublic,
    TranscriptPublic,
    UserBrief,
)
from api.services.errors import TooLargeError, too_large_detail
from api.services.lessons import (
    artefact,
    lesson_analytics,
    make_lesson,
    no_transcript,
    not_ready,
    requeue_failed,
)
from api.services.pupilnames import (
    hidden_names,
    redacted_transcript_file,
    shown_analytics,
    shown_segments,
)
from models import audit
from models.access import (
    clip_filter,
    lesson_content_filter,
    lesson_filter,
    own_upload,
    readable_comment,
    require_lesson_content,
    require_lesson_delete,
    require_uploader,
    visible_lesson,
)
from models.account import User
from models.accounts import issue_media_token
from models.coaching import Clip, Comment
from models.consent import Consent
from models.db import utcnow
from models.lesson import Lesson, LessonStatus
from models.queue import TaskQueue
from models.retention import DeletionReason
from models.retention import delete_lesson as delete_lesson_everywhere
from models.settings import Settings
from models.storage import Storage
from models.transcription import TranscriptVersion, current_number, transcript_key
from models.upload import (
    assemble,
    discard,
    part_path,
    parts_in_storage,
    spool_path,
    uploads_dir,
)
from pipeline.captions import TranscriptFormat

router = APIRouter(prefix="/lessons", tags=["lessons"])

MULTIPART_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "The recording."},
        "title": {"type": "string", "maxLength": 300},
        "transcribe": {"type": "boolean", "default": True},
        "consent": {"type": "string", "enum": [c.value for c in Consent]},
        "research_use": {"type": "boolean"},
    },
}


@router.post(
    "",
    status_code=201,
    response_model=LessonPublic,
    responses=responses(403, 404, 409, 413, 415, 503, 507),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": LessonCreate.model_json_schema()},
                "multipart/form-data": {"schema": MULTIPART_SCHEMA},
            },
        }
    },
)
def create_lesson(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
    response: Response,
) -> Lesson:
    """Create a lesson from a finished upload (JSON), or from a file in this request (multipart).

    The content is checked by its first bytes (415 for anything that is not a recording), stored
    under a generated key and queued for processing. On any failure nothing is left behind.
    """
    require_uploader(user)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        lesson = _from_multipart(request, user, session, settings, storage, tasks)
    else:
        lesson = _from_upload(request, user, session, settings, storage, tasks)
    response.headers["Location"] = f"/api/v1/lessons/{lesson.id}"
    return lesson


def _from_upload(
    request: Request,
    user: User,
    session: Session,
    settings: Settings,
    storage: Storage,
    tasks: TaskQueue,
) -> Lesson:
    raw = read_body(request)
    try:
        body = LessonCreate.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None
    upload = own_upload(session, user, body.upload_id)
    if not upload.complete:
        raise HTTPException(
            409,
            f"The upload is not finished: {upload.offset} of {upload.size} bytes have arrived.",
        )
    shared = parts_in_storage(storage)
    path = (
        spool_path(settings.data_dir, upload.id)
        if shared
        else part_path(settings.data_dir, upload.id)
    )
    filename, sha, upload_id = upload.filename, upload.sha256, upload.id
    try:
        if shared:  # the parts may have come through any API host: joined here, in order
            assemble(storage, upload_id, upload.size, path)
        lesson = make_lesson(
            session, settings, storage, tasks, user, path, filename, body.title, body.transcribe,
            sha, client_of(request), body.consent, body.research_use,
        )  # fmt: skip
    finally:
        # The upload is used up either way: a lesson took its bytes, or they were refused.
        session.delete(upload)
        session.commit()
        discard(settings.data_dir, upload_id, storage)
        if shared:
            path.unlink(missing_ok=True)
    return lesson


def _from_multipart(
    request: Request,
    user: User,
    session: Session,
    settings: Settings,
    storage: Storage,
    tasks: TaskQueue,
) -> Lesson:
    try:
        form = read_form(request, max_files=1, max_fields=5)
    except OSError as exc:  # Starlette spools the file to the temporary folder
        if exc.errno != errno.ENOSPC:
            raise
        raise no_space() from None
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise RequestValidationError(
                [{"type": "missing", "loc": ["body", "file"], "msg": "Field required"}]
            )
        title = form.get("title")
        transcribe = str(form.get("transcribe", "true")).lower() not in ("false", "0", "no")
        consent = _form_consent(form.get("consent"))
        research_use = _form_flag(form.get("research_use"), "research_use")
        if file.size is not None and file.size > settings.max_upload_bytes:
            raise TooLargeError(too_large_detail(file.size, settings.max_upload_bytes))
        path = uploads_dir(settings.data_dir) / f".multipart-{id(file):x}-{user.id}.part"
        try:
            try:
                with open(path, "wb") as out:
                    shutil.copyfileobj(file.file, out, 1024 * 1024)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                raise no_space() from None
            return make_lesson(
                session, settings, storage, tasks, user, path, file.filename or "recording",
                title if isinstance(title, str) else "", transcribe, None, client_of(request),
                consent, research_use,
            )  # fmt: skip
        finally:
            path.unlink(missing_ok=True)
    finally:
        close_form(form)


def _form_consent(value: object) -> Consent | None:
    if value is None or value == "":
        return None
    try:
        return Consent(str(value))
    except ValueError:
        choices = ", ".join(c.value for c in Consent)
        raise RequestValidationError(
            [
                {
                    "type": "enum",
                    "loc": ["body", "consent"],
                    "msg": f"Input should be one of: {choices}",
                }
            ]
        ) from None


def _form_flag(value: object, name: str) -> bool | None:
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise RequestValidationError(
        [{"type": "bool_parsing", "loc": ["body", name], "msg": "Input should be true or false"}]
    )


@router.get("", response_model=list[LessonPublic], responses=responses())
def list_lessons(
    user: CurrentUser,
    session: SessionDep,
    status: LessonStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[LessonPublic]:
    """The lessons you may see, newest first, each with who taught it and how many clips and
    comments of it you may see (what a lesson card shows)."""
    # each card shows the lesson's stages: one query for all of them, not one per lesson
    stmt = select(Lesson).where(lesson_filter(user)).options(selectinload(Lesson.stages))
    if status is not None:
        stmt = stmt.where(Lesson.status == status)
    stmt = stmt.order_by(Lesson.created_at.desc(), Lesson.id).limit(limit).offset(offset)
    lessons = list(session.scalars(stmt))
    ids = [lesson.id for lesson in lessons]
    visible = select(Clip.id, Clip.lesson_id).where(Clip.lesson_id.in_(ids), clip_filter(user))
    clips = session.execute(visible).all()
    clip_counts = Counter(lesson_id for _, lesson_id in clips)
    lesson_of = dict(clips)
    comment_counts: Counter[str] = Counter()
    if lesson_of:
        for (clip_id,) in session.execute(
            select(Comment.clip_id).where(
                Comment.clip_id.in_(list(lesson_of)), readable_comment(user)
            )
        ):
            if clip_id is not None:
                comment_counts[lesson_of[clip_id]] += 1
    # comments on the whole lesson, for those who read it (models.access.visible_lesson_comments)
    on_lessons = select(Comment.lesson_id).join(Lesson, Lesson.id == Comment.lesson_id)
    for (lesson_id,) in session.execute(
        on_lessons.where(Lesson.id.in_(ids), lesson_content_filter(user), readable_comment(user))
    ):
        if lesson_id is not None:
            comment_counts[lesson_id] += 1
    owner_ids = {lesson.owner_id for lesson in lessons if lesson.owner_id}
    owners = {
        u.id: UserBrief.model_validate(u)
        for u in session.scalars(select(User).where(User.id.in_(owner_ids)))
    }
    return [
        LessonPublic.model_validate(lesson).model_copy(
            update={
                "owner": owners.get(lesson.owner_id or ""),
                "clip_count": clip_counts[lesson.id],
                "comment_count": comment_counts[lesson.id],
            }
        )
        for lesson in lessons
    ]


@router.get("/{lesson_id}", response_model=LessonPublic, responses=responses(404))
def get_lesson(lesson_id: str, user: CurrentUser, session: SessionDep) -> Lesson:
    """Status, current stage, progress, and on failure an error code and message."""
    return visible_lesson(session, user, lesson_id)


@router.delete("/{lesson_id}", status_code=204, responses=responses(403, 404))
def delete_lesson(
    lesson_id: str, request: Request, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> None:
    """Delete a lesson, its clips and every stored file made from it (owner or admin)."""
    lesson = visible_lesson(session, user, lesson_id)
    require_lesson_delete(user, lesson)
    delete_lesson_everywhere(
        session, storage, lesson, actor_id=user.id, reason=DeletionReason.deleted,
        client=client_of(request),
    )  # fmt: skip


@router.post(
    "/{lesson_id}/retry",
    status_code=202,
    response_model=LessonPublic,
    responses=responses(403, 404, 409),
)
def retry_lesson(
    lesson_id: str, request: Request, user: CurrentUser, session: SessionDep, tasks: TaskQueueDep
) -> Lesson:
    """Process a failed lesson again from the start (owner or admin), e.g. after a worker ran
    out of disk; a file that is not a recording will fail the same way, and says so again."""
    lesson = visible_lesson(session, user, lesson_id)
    require_lesson_delete(user, lesson)
    if not requeue_failed(session, tasks, user, lesson, client_of(request)):
        raise HTTPException(409, "Only a lesson whose processing failed can be retried.")
    return lesson


def _watchable(session: Session, user: User, lesson_id: str) -> Lesson:
    lesson = visible_lesson(session, user, lesson_id)
    require_lesson_content(user, lesson)
    return lesson


TRANSCRIPT_TYPES = {
    "json": "application/json",
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}


@router.get(
    "/{lesson_id}/transcript",
    response_model=None,
    responses={
        **responses(403, 404, 409),
        200: {
            "description": "The transcript in the asked format.",
            "model": TranscriptPublic,
            "content": {
                "text/vtt": {"schema": {"type": "string"}},
                "application/x-subrip": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
    },
)
def get_transcript(
    lesson_id: str,
    request: Request,
    viewer: LessonViewer,
    session: SessionDep,
    storage: StorageDep,
    format: TranscriptFormat = "json",
    version: Annotated[
        int | None,
        Query(ge=1, le=1_000_000, description="An earlier transcript (see `/transcriptions`)."),
    ] = None,
) -> Response:
    """The transcript as JSON (segments with word timings), WebVTT, SRT or plain text.

    A media link (`token=`) opens only the WebVTT form, the captions a `<track>` loads.
    `version=N` reads a transcript kept from before the lesson was transcribed again. A reader
    outside the coaching pair (a coach whose batch holds it) reads [pupil] for each name on
    the class lists."""
    if viewer.by_link and format != "vtt":
        raise HTTPException(
            401,
            "A media link opens only the WebVTT transcript; send the bearer token for this one.",
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
        )
    user = viewer.user
    lesson = _watchable(session, user, lesson_id)
    kept = kept_transcript(session, lesson, version)
    key = transcript_key(lesson, format, kept)
    data = storage.get_bytes(key) if storage.exists(key) else None
    if data is None:
        if kept is not None:
            raise HTTPException(404, f"Version {version} of this transcript has no {format} file.")
        raise no_transcript(lesson)
    names = hidden_names(session, user, lesson)
    if names is not None:
        source = transcript_key(lesson, "json", kept)
        data = redacted_transcript_file(storage.get_bytes(source), format, names)
    audit.record(
        session, user.id, "lesson.transcript", "lesson", lesson.id,
        client=client_of(request), format=format, version=version,
    )  # fmt: skip
    session.commit()
    return Response(data, media_type=TRANSCRIPT_TYPES[format], headers=_cache(viewer))


def kept_transcript(
    session: Session, lesson: Lesson, version: int | None
) -> TranscriptVersion | None:
    """The kept version numbered `version`, or None for the current transcript (404 if neither)."""
    if version is None or version == current_number(session, lesson.id):
        return None
    kept = session.scalar(
        select(TranscriptVersion).where(
            TranscriptVersion.lesson_id == lesson.id, TranscriptVersion.number == version
        )
    )
    if kept is None:
        raise HTTPException(404, f"This lesson has no transcript version {version}.")
    return kept


def _cache(viewer: Viewer) -> dict[str, str]:
    return NO_STORE if viewer.by_link else {"Cache-Control": "private"}


@router.get(
    "/{lesson_id}/segments", response_model=list[SegmentPublic], responses=responses(403, 404)
)
def get_segments(
    lesson_id: str, request: Request, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> list[SegmentPublic]:
    """Candidate clips found from pauses, scene changes and sentence ends (with their
    transcript excerpts: audited like the transcript)."""
    lesson = _watchable(session, user, lesson_id)
    data = artefact(storage, lesson, "segments.json")
    if data is None:
        raise not_ready(lesson, "segment list")
    audit_content(session, request, user.id, "lesson.segments", "lesson", lesson.id)
    items: list[Any] = shown_segments(json.loads(data), hidden_names(session, user, lesson))
    return [SegmentPublic.model_validate(item) for item in items]


@router.get(
    "/{lesson_id}/analytics", response_model=AnalyticsPublic, responses=responses(403, 404, 409)
)
def get_analytics(
    lesson_id: str, request: Request, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> AnalyticsPublic:
    """Talk analytics: speech and silence over time, longest stretches of talk, questions (open
    or closed) with the wait after each, pace; each figure with a line on what it means.
    Evidence for a conversation, never a score. Read like the transcript, and audited as a
    transcript view (the questions are the transcript's words)."""
    lesson = _watchable(session, user, lesson_id)
    result = shown_analytics(lesson_analytics(storage, lesson), hidden_names(session, user, lesson))
    audit.record(
        session, user.id, "lesson.transcript", "lesson", lesson.id,
        client=client_of(request), format="analytics",
    )  # fmt: skip
    session.commit()
    return analytics_public(result)


@router.get(
    "/{lesson_id}/thumbnails.vtt",
    response_class=Response,
    responses={**responses(403, 404), 200: {"content": {"text/vtt": {}}}},
)
def get_thumbnails_track(
    lesson_id: str, request: Request, viewer: LessonViewer, session: SessionDep, storage: StorageDep
) -> Response:
    """A WebVTT thumbnails track for scrubbing, its images pointing at this API (through the
    same media link when one opened the track)."""
    lesson = _watchable(session, viewer.user, lesson_id)
    data = artefact(storage, lesson, "thumbnails.vtt")
    if data is None:
        raise not_ready(lesson, "thumbnails track")
    audit_content(session, request, viewer.user.id, "lesson.thumbnails", "lesson", lesson.id)
    base = f"{request.scope.get('root_path', '')}/api/v1/lessons/{lesson.id}"
    return Response(
        rewrite_sprite_urls(data.decode("utf-8"), base, viewer.link_token),
        media_type="text/vtt; charset=utf-8",
        headers=_cache(viewer),
    )


def rewrite_sprite_urls(vtt: str, base: str, token: str | None = None) -> str:
    """Point each cue's image (`sprite.jpg#xywh=...`) at the API route that serves it."""
    query = f"?token={token}" if token else ""
    lines = []
    for line in vtt.splitlines():
        if "#xywh=" in line and "-->" not in line:
            url, _, fragment = line.partition("#")
            name = url.rsplit("/", 1)[-1]
            if name == "sprite.jpg":
                line = f"{base}/sprite.jpg{query}#{fragment}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _image(
    name: str,
    lesson_id: str,
    request: Request,
    viewer: Viewer,
    session: Session,
    storage: Storage,
) -> Response:
    lesson = _watchable(session, viewer.user, lesson_id)
    key = lesson.artefact_key(name)
    if not storage.exists(key):
        raise not_ready(lesson, name)
    action = "lesson." + name.removesuffix(".jpg")
    audit_content(session, request, viewer.user.id, action, "lesson", lesson.id)
    return serve_object(storage, key, "image/jpeg", no_store=viewer.by_link)


IMAGE_RESPONSES = {**responses(403, 404), 200: {"content": {"image/jpeg": {}}}}


@router.get("/{lesson_id}/poster.jpg", response_class=Response, responses=IMAGE_RESPONSES)
def get_poster(
    lesson_id: str, request: Request, viewer: LessonViewer, session: SessionDep, storage: StorageDep
) -> Response:
    return _image("poster.jpg", lesson_id, request, viewer, session, storage)


@router.get("/{lesson_id}/sprite.jpg", response_class=Response, responses=IMAGE_RESPONSES)
def get_sprite(
    lesson_id: str, request: Request, viewer: LessonViewer, session: SessionDep, storage: StorageDep
) -> Response:
    return _image("sprite.jpg", lesson_id, request, viewer, session, storage)


@router.get(
    "/{lesson_id}/media",
    response_class=Response,
    responses={**responses(403, 404), **MEDIA_RESPONSES},
)
def get_media(
    lesson_id: str, request: Request, viewer: LessonViewer, session: SessionDep, storage: StorageDep
) -> Response:
    """The browser-playable recording; supports Range requests (206) or redirects (307)."""
    user = viewer.user
    lesson = _watchable(session, user, lesson_id)
    if not lesson.media_key or not storage.exists(lesson.media_key):
        raise not_ready(lesson, "playable recording")
    audit_content(session, request, user.id, "lesson.view", "lesson", lesson.id)
    media_type = "audio/mp4" if lesson.media_key.endswith(".m4a") else "video/mp4"
    return serve_object(storage, lesson.media_key, media_type, no_store=viewer.by_link)


@router.get("/{lesson_id}/media-links", response_model=MediaLinks, responses=responses(403, 404))
def get_media_links(
    lesson_id: str,
    request: Request,
    auth: AuthDep,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    response: Response,
) -> MediaLinks:
    """Signed links to the recording, captions, thumbnails track, sprite and poster, for
    `<video>`, `<track>` and images, which cannot send the Authorization header.

    They work for minutes (`expires_in`) and for this lesson only; ask again before then.
    Signing out ends them. Files that do not exist (yet) are null.
    """
    lesson = _watchable(session, auth.user, lesson_id)
    issued = issue_media_token(settings, auth.claims, f"lesson:{lesson.id}")
    base = f"{request.scope.get('root_path', '')}/api/v1/lessons/{lesson.id}"

    def link(path: str, present: bool) -> str | None:
        if not present:
            return None
        return f"{path}{'&' if '?' in path else '?'}token={issued.token}"

    def stored(name: str) -> bool:
        return storage.exists(lesson.artefact_key(name))

    response.headers.update(NO_STORE)
    # Once ready, the recording stays playable while some stages run again (transcription).
    ready = lesson.status == LessonStatus.ready or lesson.ready_at is not None
    return MediaLinks(
        token=issued.token,
        expires_at=issued.expires_at,
        expires_in=max(0, int((issued.expires_at - utcnow()).total_seconds())),
        media=link(f"{base}/media", ready and bool(lesson.media_key)),
        captions=link(f"{base}/transcript?format=vtt", stored("transcript.vtt")),
        thumbnails=link(f"{base}/thumbnails.vtt", stored("thumbnails.vtt")),
        sprite=link(f"{base}/sprite.jpg", stored("sprite.jpg")),
        poster=link(f"{base}/poster.jpg", stored("poster.jpg")),
    )
