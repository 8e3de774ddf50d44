"""Per-lesson transcription controls: transcribe again with other settings (keeping the earlier
transcripts as numbered versions), correct sentences or go back to an earlier version (each a
new version, see api.corrections), list the versions, switch transcription off or on.

Transcribing again runs only the audio, transcribe and segment stages (the worker task
`clipcoach.lesson.retranscribe`); the playable recording, pictures and scene scores are kept.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api import corrections
from api.deps import CurrentUser, SessionDep, SettingsDep, StorageDep, TaskQueueDep, client_of
from api.errors import responses
from api.schemas import (
    LessonPublic,
    LessonUpdate,
    TranscriptCorrection,
    TranscriptionCreate,
    TranscriptRevert,
    TranscriptVersionPublic,
)
from api.services.clips import user_brief
from models import audit, queue
from models.access import (
    require_lesson_content,
    require_transcript_delete,
    require_transcript_edit,
    require_transcription_control,
    visible_lesson,
)
from models.account import User
from models.lesson import Lesson, LessonStage, LessonStatus, StageStatus
from models.queue import TaskQueue
from models.settings import Settings
from models.storage import Storage
from models.transcription import (
    TranscriptionSettings,
    TranscriptVersion,
    archive_current,
    current_number,
    delete_all,
    kept_versions,
    transcribed_at,
    transcript_key,
    version_prefix,
)
from models.transcripts import transcript_words
from pipeline.lesson import TRANSCRIPTION_STAGES

log = logging.getLogger(__name__)
router = APIRouter(prefix="/lessons", tags=["transcriptions"])

FINISHED = (StageStatus.done, StageStatus.skipped)


def _controlled(session: Session, user: User, lesson_id: str) -> Lesson:
    lesson = visible_lesson(session, user, lesson_id)
    require_transcription_control(user, lesson)
    return lesson


def _made_with(settings: Settings, options: dict[str, Any]) -> TranscriptionSettings:
    return TranscriptionSettings.of(
        options, model=settings.model, language=settings.language, vocabulary=settings.vocabulary
    )


def _require_idle(session: Session, lesson: Lesson) -> None:
    """Transcribing again needs the rest of the lesson processed and nothing running."""
    if lesson.status in (LessonStatus.queued, LessonStatus.processing):
        raise HTTPException(
            409,
            f"The lesson is still {lesson.status.value}"
            + (f" (stage {lesson.stage})" if lesson.stage else "")
            + "; try again when it has finished.",
        )
    corrections.refuse_while_blanking(session, lesson, "transcribe again")
    rows = session.scalars(select(LessonStage).where(LessonStage.lesson_id == lesson.id))
    for row in rows:
        if row.name not in TRANSCRIPTION_STAGES and row.status not in FINISHED:
            raise HTTPException(
                409,
                f"Processing stopped at the {row.name} step, before transcription; "
                "the recording has to be processed again first.",
            )


def _start(
    session: Session,
    storage: Storage,
    tasks: TaskQueue,
    lesson: Lesson,
    options: dict[str, Any],
    archived: str,
) -> None:
    """Commit the lesson as queued with `options`, then send the task; undo it all if the queue
    is down (`archived` is the version folder copied for this request, if any)."""
    before = (dict(lesson.options or {}), lesson.status, lesson.stage)
    lesson.options = options
    lesson.status, lesson.stage = LessonStatus.queued, "audio"
    session.commit()
    try:
        tasks.send(queue.RETRANSCRIBE_LESSON, lesson.id)
    except Exception:
        log.warning("lesson %s: could not queue transcription", lesson.id, exc_info=True)
        lesson.options, lesson.status, lesson.stage = before
        if archived:
            number = int(archived.rsplit("/v", 1)[-1])
            session.execute(
                delete(TranscriptVersion).where(
                    TranscriptVersion.lesson_id == lesson.id, TranscriptVersion.number == number
                )
            )
            storage.delete_prefix(archived)
        session.commit()
        raise HTTPException(
            503,
            "The processing queue is unavailable, so the lesson is not being transcribed. "
            "Try again shortly.",
            headers={"Retry-After": "10"},
        ) from None


def _current(
    session: Session, storage: Storage, settings: Settings, lesson: Lesson
) -> TranscriptVersionPublic | None:
    made_with = _made_with(settings, lesson.options or {})
    busy = lesson.status in (LessonStatus.queued, LessonStatus.processing)
    ready = not busy and storage.exists(transcript_key(lesson, "json"))
    if not ready and not (busy and lesson.transcribe):
        return None
    words: int | None = None
    made: dict[str, Any] = {"kind": "transcription"}
    if ready:
        doc = json.loads(storage.get_bytes(transcript_key(lesson, "json")))
        made = corrections.made_how(doc)
        words = len(transcript_words(doc))
    created_at = (transcribed_at(session, lesson.id) or lesson.ready_at) if ready else None
    if made.get("made_at"):
        created_at = datetime.fromisoformat(made["made_at"])
    return TranscriptVersionPublic(
        number=current_number(session, lesson.id),
        created_at=created_at,
        model=made_with.model,
        language=made_with.language,
        vocabulary=made_with.vocabulary,
        words=words,
        current=True,
        ready=ready,
        kind=made["kind"],
        author=user_brief(session, made.get("author_id")),
        reverted_from=made.get("reverted_from"),
    )


def _kept(session: Session, version: TranscriptVersion) -> TranscriptVersionPublic:
    return TranscriptVersionPublic(
        number=version.number,
        created_at=version.created_at,
        model=version.model,
        language=version.language,
        vocabulary=list(version.vocabulary),
        words=version.words,
        current=False,
        ready=True,
        kind=version.kind,
        author=user_brief(session, version.author_id),
    )


@router.get(
    "/{lesson_id}/transcriptions",
    response_model=list[TranscriptVersionPublic],
    responses=responses(403, 404),
)
def list_transcriptions(
    lesson_id: str,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> list[TranscriptVersionPublic]:
    """The lesson's transcripts, oldest first: kept versions, then the current one (if any).

    Read an older one with `GET /lessons/{id}/transcript?version=N`."""
    lesson = _controlled(session, user, lesson_id)
    versions = [_kept(session, v) for v in kept_versions(session, lesson.id)]
    current = _current(session, storage, settings, lesson)
    return versions + ([current] if current else [])


@router.post(
    "/{lesson_id}/transcriptions",
    status_code=202,
    response_model=TranscriptVersionPublic,
    responses=responses(403, 404, 409, 503),
)
def create_transcription(
    lesson_id: str,
    body: TranscriptionCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
    response: Response,
) -> TranscriptVersionPublic:
    """Transcribe the lesson again with another model, language or vocabulary.

    The current transcript is kept as a numbered version (readable with `?version=N`) and a new
    one is made; the recording, pictures and scene scores are not processed again. For the
    lesson's owner, their paired mentor, or the coach whose batch holds it."""
    lesson = _controlled(session, user, lesson_id)
    session.refresh(lesson, with_for_update=True)  # one request at a time keeps a version
    if not lesson.transcribe:
        raise HTTPException(
            409,
            "Transcription is switched off for this lesson; switch it on with "
            'PATCH /api/v1/lessons/{id} {"transcribe": true}.',
        )
    if lesson.has_audio is False:
        raise HTTPException(409, "This recording has no sound, so it has no transcript.")
    _require_idle(session, lesson)
    requested = body.model_dump(include=body.model_fields_set)
    allowed = {settings.model, *settings.transcription_models} - {""}
    if requested.get("model") and requested["model"] not in allowed:
        raise HTTPException(
            422,
            f"Model {requested['model']!r} is not one this deployment allows; choose one of: "
            + (", ".join(sorted(allowed)) or "none (only the default model)")
            + ".",
        )
    options = dict(lesson.options or {})
    for name, value in requested.items():
        if value in (None, [], ""):
            options.pop(name, None)
        else:
            options[name] = value
    archived = archive_current(session, storage, lesson, _made_with(settings, lesson.options or {}))
    audit.record(
        session, user.id, "lesson.retranscribe", "lesson", lesson.id,
        client=client_of(request), kept_version=archived.number if archived else None,
        **requested,
    )  # fmt: skip
    prefix = version_prefix(lesson, archived.number) if archived else ""
    _start(session, storage, tasks, lesson, options, prefix)
    response.headers["Location"] = f"/api/v1/lessons/{lesson.id}/transcriptions"
    current = _current(session, storage, settings, lesson)
    assert current is not None  # noqa: S101 - the lesson is queued with transcription on
    return current


def _editable(session: Session, user: User, lesson_id: str) -> Lesson:
    lesson = visible_lesson(session, user, lesson_id)
    require_lesson_content(user, lesson)
    require_transcript_edit(session, user, lesson)
    return lesson


@router.post(
    "/{lesson_id}/transcript/corrections",
    status_code=201,
    response_model=TranscriptVersionPublic,
    responses=responses(403, 404, 409, 422),
)
def correct_transcript(
    lesson_id: str,
    body: TranscriptCorrection,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    response: Response,
) -> TranscriptVersionPublic:
    """Correct sentences of the current transcript: saved as a new version, which captions, clip
    captions, the transcript, candidate clips, exports and search then follow.

    Send each sentence (`index` into the transcript's segments) as it should read; the words
    you left alone keep their times, changed and added words are timed inside their sentence.
    `version` is the version you corrected: if another was saved since, 409. For the lesson's
    owner and their mentor."""
    lesson = _editable(session, user, lesson_id)
    edits = {edit.index: edit.text for edit in body.sentences}
    number = corrections.correct(
        session, storage, lesson, user, _made_with(settings, lesson.options or {}),
        body.version, edits,
    )  # fmt: skip
    audit.record(
        session, user.id, "transcript.correct", "lesson", lesson.id,
        client=client_of(request), version=number, sentences=sorted(edits),
    )  # fmt: skip
    session.commit()
    response.headers["Location"] = f"/api/v1/lessons/{lesson.id}/transcript?version={number}"
    current = _current(session, storage, settings, lesson)
    assert current is not None  # noqa: S101 - just written
    return current


@router.post(
    "/{lesson_id}/transcript/reverts",
    status_code=201,
    response_model=TranscriptVersionPublic,
    responses=responses(403, 404, 409),
)
def revert_transcript(
    lesson_id: str,
    body: TranscriptRevert,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    response: Response,
) -> TranscriptVersionPublic:
    """Go back to an earlier version: a copy of it becomes the newest version (the one being
    replaced is kept, so a revert can itself be undone). For the lesson's owner and mentor."""
    lesson = _editable(session, user, lesson_id)
    made_with = _made_with(settings, lesson.options or {})
    number = body.version
    new = corrections.revert(session, storage, lesson, user, made_with, number)
    audit.record(
        session, user.id, "transcript.revert", "lesson", lesson.id,
        client=client_of(request), version=new, reverted_from=number,
    )  # fmt: skip
    session.commit()
    response.headers["Location"] = f"/api/v1/lessons/{lesson.id}/transcript?version={new}"
    current = _current(session, storage, settings, lesson)
    assert current is not None  # noqa: S101 - just written
    return current


@router.patch("/{lesson_id}", response_model=LessonPublic, responses=responses(403, 404, 409, 503))
def update_lesson(
    lesson_id: str,
    body: LessonUpdate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
    delete_transcripts: Annotated[
        bool,
        Query(
            description="With transcribe=false: remove every transcript, current and kept "
            "(owner only)."
        ),
    ] = False,
) -> Lesson:
    """Switch transcription off or on for a lesson.

    Off: later processing skips audio and transcription; with `delete_transcripts=true` the
    lesson's owner also removes its transcripts (current and kept versions, and the extracted
    audio), and the candidate clips are made again without transcript text. On: a lesson with
    no transcript is transcribed."""
    lesson = _controlled(session, user, lesson_id)
    if delete_transcripts and body.transcribe is not False:
        raise HTTPException(422, "delete_transcripts needs transcribe=false.")
    if delete_transcripts:
        require_transcript_delete(user, lesson)
    if body.transcribe is None or (body.transcribe == lesson.transcribe and not delete_transcripts):
        return lesson
    _require_idle(session, lesson)
    client = client_of(request)
    lesson.transcribe = body.transcribe
    if not body.transcribe:
        audit.record(
            session, user.id, "lesson.transcription_off", "lesson", lesson.id, client=client
        )
        if not delete_transcripts:
            session.commit()
            return lesson
        delete_all(session, storage, lesson)
        audit.record(
            session, user.id, "lesson.transcripts_delete", "lesson", lesson.id, client=client
        )
    else:
        audit.record(
            session, user.id, "lesson.transcription_on", "lesson", lesson.id, client=client
        )
        if storage.exists(transcript_key(lesson, "json")) or lesson.has_audio is False:
            session.commit()
            return lesson
    # Off with deletion: segments are made again without transcript text. On: transcribe.
    _start(session, storage, tasks, lesson, dict(lesson.options or {}), "")
    session.refresh(lesson)
    return lesson
