"""A lesson's retention dates: shown with the lesson; the lesson's pushed out here by its owner or
an admin, its transcripts' by an admin only."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import CurrentUser, SessionDep, client_of
from api.errors import CodedHTTPException, responses
from api.schemas import KeepUntilUpdate, LessonPublic, TranscriptKeepUntilUpdate
from models import audit
from models.access import require_keep_until, require_transcript_keep_until, visible_lesson
from models.account import Role
from models.db import utcnow
from models.lesson import Lesson
from models.retention import (
    KeepUntilError,
    check_keep_until,
    check_transcript_keep_until,
    school_policy,
)

router = APIRouter(prefix="/lessons", tags=["lessons"])


@router.put(
    "/{lesson_id}/keep-until", response_model=LessonPublic, responses=responses(403, 404, 409)
)
def set_keep_until(
    lesson_id: str, body: KeepUntilUpdate, request: Request, user: CurrentUser, session: SessionDep
) -> Lesson:
    """Keep a lesson past the school's retention date, within limits (owner or admin; audited).
    422 `keep_until_past` or `keep_until_too_late`; 409 `retention_off` when the school keeps
    lessons anyway."""
    lesson = visible_lesson(session, user, lesson_id)
    require_keep_until(user, lesson)
    if body.keep_until is not None:
        try:
            check_keep_until(
                lesson.created_at, body.keep_until, school_policy(),
                admin=user.role == Role.admin, now=utcnow(),
            )  # fmt: skip
        except KeepUntilError as exc:
            status = 409 if exc.code == "retention_off" else 422
            raise CodedHTTPException(status, f"{exc} [{exc.code}]", exc.code) from None
    before = lesson.keep_until
    lesson.keep_until = body.keep_until
    audit.record(
        session, user.id, "lesson.keep_until", "lesson", lesson.id, client=client_of(request),
        before=before.isoformat() if before else None,
        after=body.keep_until.isoformat() if body.keep_until else None,
    )  # fmt: skip
    session.commit()
    return lesson


@router.put(
    "/{lesson_id}/transcript-keep-until",
    response_model=LessonPublic,
    responses=responses(403, 404, 409),
)
def set_transcript_keep_until(
    lesson_id: str,
    body: TranscriptKeepUntilUpdate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
) -> Lesson:
    """Keep a lesson's transcripts past the school's transcript date (admin only; audited).
    422 `keep_until_past` or `keep_until_too_late`; 409 `retention_off` when the school keeps
    transcripts with their lesson, `transcripts_deleted` when retention already deleted them."""
    lesson = visible_lesson(session, user, lesson_id)
    require_transcript_keep_until(user)
    until = body.transcript_keep_until
    if until is not None:
        try:
            check_transcript_keep_until(lesson.created_at, until, school_policy(), now=utcnow())
        except KeepUntilError as exc:
            status = 409 if exc.code == "retention_off" else 422
            raise CodedHTTPException(status, f"{exc} [{exc.code}]", exc.code) from None
        if lesson.transcripts_deleted_at is not None and not lesson.transcribe:
            raise CodedHTTPException(
                409,
                "Retention has already deleted this lesson's transcripts [transcripts_deleted].",
                "transcripts_deleted",
            )
    before = lesson.transcript_keep_until
    lesson.transcript_keep_until = until
    audit.record(
        session, user.id, "lesson.transcript_keep_until", "lesson", lesson.id,
        client=client_of(request), before=before.isoformat() if before else None,
        after=until.isoformat() if until else None,
    )  # fmt: skip
    session.commit()
    return lesson
