"""Suggested strands: for a saved clip, and for a range a mentor has selected but not saved."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, StorageDep, client_of
from api.errors import responses
from api.schemas import StrandSuggestion
from api.services.clips import check_consent_view, check_range, require_ready_lesson
from api.services.lessons import artefact, lesson_analytics, no_transcript
from api.suggestions import range_figures, range_text, suggest
from models import audit
from models.access import require_clip_create, visible_clip, visible_lesson
from models.account import User
from models.framework import Framework, ensure_builtin
from models.lesson import Lesson
from models.storage import Storage
from models.transcripts import transcript_words

router = APIRouter(tags=["clips"])

FrameworkQuery = Annotated[
    str, Query(max_length=64, description="The framework to suggest from (GET /frameworks).")
]


def _suggestions(
    session: Session,
    storage: Storage,
    user: User,
    request: Request,
    lesson: Lesson,
    start: float,
    end: float,
    framework: str,
) -> list[StrandSuggestion]:
    ensure_builtin(session)
    if session.get(Framework, framework) is None:
        raise HTTPException(
            422, f"Unknown framework {framework!r}. See GET /api/v1/frameworks for the ids."
        )
    data = artefact(storage, lesson, "transcript.json")
    if data is None:
        raise no_transcript(lesson)
    text = range_text(transcript_words(json.loads(data)), start, end)
    figures = range_figures(lesson_analytics(storage, lesson), start, end)
    found = suggest(session, framework, text, figures)
    # the "why" quotes the transcript: audited as a transcript view, like the analytics
    audit.record(
        session, user.id, "lesson.transcript", "lesson", lesson.id,
        client=client_of(request), format="suggested-strands",
    )  # fmt: skip
    session.commit()
    return found


@router.get(
    "/clips/{clip_id}/suggested-strands",
    response_model=list[StrandSuggestion],
    responses=responses(404, 409, 422),
)
def clip_suggestions(
    clip_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    framework: FrameworkQuery = "ecf-2019",
) -> list[StrandSuggestion]:
    """Up to three strands the clip's words and talk figures suggest, each with why (the words
    and figures that matched). Only suggestions: nothing is tagged until a mentor adds a tag.
    Seen by whoever sees the clip's tags."""
    clip = visible_clip(session, user, clip_id)
    check_consent_view(session, user, clip)
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - the foreign key cascades
    return _suggestions(session, storage, user, request, lesson, clip.start, clip.end, framework)


@router.get(
    "/lessons/{lesson_id}/suggested-strands",
    response_model=list[StrandSuggestion],
    responses=responses(403, 404, 409, 422),
)
def range_suggestions(
    lesson_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    start: Annotated[float, Query(ge=0, le=1e7, allow_inf_nan=False)],
    end: Annotated[float, Query(ge=0, le=1e7, allow_inf_nan=False)],
    framework: FrameworkQuery = "ecf-2019",
) -> list[StrandSuggestion]:
    """Suggestions for a range not yet saved as a clip (the studio asks while a mentor selects),
    for those who may make clips of the lesson; the range follows the rules of a clip."""
    lesson = visible_lesson(session, user, lesson_id)
    require_clip_create(session, user, lesson)
    require_ready_lesson(lesson)
    check_range(lesson, start, end)
    return _suggestions(session, storage, user, request, lesson, start, end, framework)
