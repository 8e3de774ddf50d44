"""Lessons: making one from a recording (`make_lesson`, for lessons and batches), processing a
failed one again (`requeue_failed`, for lessons and batches), and reading what processing made
of it (`no_transcript`, `stored_analytics`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from api.services.errors import (
    ConflictError,
    NotReadyError,
    ServiceError,
    TooLargeError,
    UnavailableError,
    UnsupportedError,
    too_large_detail,
)
from models import audit, queue
from models.account import User
from models.consent import Consent
from models.intake import add_lesson_from_file, discard_source
from models.lesson import Lesson, LessonStatus, lesson_key
from models.mediatype import NotARecordingError, sniff
from models.queue import TaskQueue
from models.settings import Settings
from models.storage import Storage
from models.upload import read_head, sha256_file
from pipeline.analytics import TalkAnalytics, of_clip, of_lesson
from pipeline.lesson import ANALYTICS, SPEAKERS, SPEECH_REGIONS
from pipeline.redact import Range, shown_clip_transcript
from pipeline.transcript import Transcript

log = logging.getLogger(__name__)

QUEUE_RETRY_AFTER_SECONDS = 10


def make_lesson(
    session: Session,
    settings: Settings,
    storage: Storage,
    tasks: TaskQueue,
    user: User,
    path: Path,
    filename: str,
    title: str,
    transcribe: bool,
    sha256: str | None,
    client: str,
    consent: Consent | None = None,
    research_use: bool | None = None,
) -> Lesson:
    """A lesson owned by `user` from the recording at `path` (which stays the caller's to remove),
    committed and queued. TooLargeError, UnsupportedError or UnavailableError (the queue) with
    nothing kept. Used by lessons and batches."""
    size = path.stat().st_size
    if size > settings.max_upload_bytes:
        raise TooLargeError(too_large_detail(size, settings.max_upload_bytes))
    try:
        media = sniff(read_head(path))
    except NotARecordingError as exc:
        raise UnsupportedError(str(exc)) from None
    digest = sha256 if sha256 else sha256_file(path)
    lesson = add_lesson_from_file(
        session,
        storage,
        path,
        filename=filename,
        extension=media.extension,
        sha256=digest,
        title=title,
        owner_id=user.id,
        content_type=media.content_type,
        transcribe=transcribe,
        consent=consent,
        research_use=research_use,
    )
    try:
        audit.record(
            session, user.id, "lesson.create", "lesson", lesson.id, client=client,
            consent=lesson.consent.value, research_use=lesson.research_use,
        )  # fmt: skip
        session.commit()
    except BaseException:
        session.rollback()
        discard_source(storage, lesson.id)
        raise
    try:
        tasks.send(queue.PROCESS_LESSON, lesson.id)
    except Exception:
        log.warning("lesson %s: could not queue processing", lesson.id, exc_info=True)
        session.delete(lesson)
        session.commit()
        discard_source(storage, lesson.id)
        raise UnavailableError(
            "The processing queue is unavailable; nothing was kept. Try again shortly.",
            retry_after=QUEUE_RETRY_AFTER_SECONDS,
        ) from None
    session.refresh(lesson)
    return lesson


def requeue_failed(
    session: Session, tasks: TaskQueue, user: User, lesson: Lesson, client: str
) -> bool:
    """Queue a failed lesson to be processed again from the start; False (and nothing sent)
    when it is not failed any more. The status moves by one conditional UPDATE, so two retries
    racing (two clicks, two API hosts) queue it once. Committed and audited."""
    moved = session.execute(
        update(Lesson)
        .where(Lesson.id == lesson.id, Lesson.status == LessonStatus.failed)
        .values(
            status=LessonStatus.queued, stage=None, progress=0, error_code=None, error_message=None
        )
        .execution_options(synchronize_session=False)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        return False
    audit.record(session, user.id, "lesson.retry", "lesson", lesson.id, client=client)
    session.commit()
    session.refresh(lesson)
    tasks.send(queue.PROCESS_LESSON, lesson.id)
    return True


def not_ready(lesson: Lesson, what: str) -> NotReadyError:
    """Why the lesson has no `what`: processing failed, is still running, or never makes one."""
    if lesson.status == LessonStatus.failed:
        return NotReadyError(
            f"Processing failed, so there is no {what} [{lesson.error_code}]: "
            f"{lesson.error_message}"
        )
    if lesson.status != LessonStatus.ready:
        return NotReadyError(
            f"The {what} is not ready yet: the lesson is {lesson.status.value}"
            + (f" (stage {lesson.stage}, {lesson.progress}%)." if lesson.stage else ".")
        )
    return NotReadyError(f"This lesson has no {what}.")


def no_transcript(lesson: Lesson) -> ServiceError:
    """Why the lesson has no transcript (no sound, switched off, or not made yet)."""
    if lesson.has_audio is False:
        return ConflictError("This recording has no sound, so it has no transcript.")
    if not lesson.transcribe:
        return ConflictError("Transcription was switched off for this lesson.")
    return not_ready(lesson, "transcript")


def artefact(storage: Storage, lesson: Lesson, name: str) -> bytes | None:
    key = lesson.artefact_key(name)
    return storage.get_bytes(key) if storage.exists(key) else None


def lesson_analytics(storage: Storage, lesson: Lesson) -> TalkAnalytics:
    result = stored_analytics(storage, lesson.id, lesson.duration)
    if result is None:
        raise no_transcript(lesson)
    return result


def clip_analytics(
    storage: Storage, lesson: Lesson, blanks: list[Range], start: float, end: float
) -> TalkAnalytics:
    """The talk analytics of a clip's span, from the same words its viewers may read (blanked
    moments left out) and the lesson's stored speech regions and speaker turns; 409 without a
    transcript. Made on each read (a clip is minutes long: milliseconds), never stored."""

    def read(name: str) -> Any:
        key = lesson.artefact_key(name)
        return json.loads(storage.get_bytes(key)) if storage.exists(key) else None

    data = read("transcript.json")
    if data is None:
        raise no_transcript(lesson)
    shown = shown_clip_transcript(Transcript.from_dict(data), blanks, start, end)
    speakers = read(SPEAKERS)
    return of_clip(
        shown, start, end, read(SPEECH_REGIONS), speakers if isinstance(speakers, dict) else None
    )


def stored_analytics(
    storage: Storage, lesson_id: str, duration: float | None, transcript: Transcript | None = None
) -> TalkAnalytics | None:
    """analytics.json, or (a lesson processed before analytics existed) the same figures made
    now from its transcript and speech regions, without storing them: a read writes nothing.
    None when the lesson has no transcript."""

    def read(name: str) -> bytes | None:
        key = lesson_key(lesson_id, name)
        return storage.get_bytes(key) if storage.exists(key) else None

    data = read(ANALYTICS)
    if data is not None:
        return TalkAnalytics.from_dict(json.loads(data))
    if transcript is None:
        raw = read("transcript.json")
        if raw is None:
            return None
        transcript = Transcript.from_dict(json.loads(raw))
    speech = read(SPEECH_REGIONS)
    return of_lesson(transcript, duration, json.loads(speech) if speech is not None else None)
