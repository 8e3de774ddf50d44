"""A lesson's consent state: read with the lesson, changed here by its owner or an admin."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select

from api.deps import CurrentUser, SessionDep, StorageDep, client_of
from api.errors import responses
from api.schemas import ConsentUpdate, LessonPublic
from models import audit
from models.access import require_consent_change, visible_lesson
from models.coaching import Clip, forget_render
from models.lesson import Lesson

router = APIRouter(prefix="/lessons", tags=["lessons"])


@router.put("/{lesson_id}/consent", response_model=LessonPublic, responses=responses(403, 404))
def set_consent(
    lesson_id: str,
    body: ConsentUpdate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
) -> Lesson:
    """Change what the pupils' consent allows (owner or admin; audited): the consent state, its
    research use, or both. Clips already rendered are thrown away when the state changes, so the
    next request renders them as the new state requires."""
    lesson = visible_lesson(session, user, lesson_id)
    require_consent_change(user, lesson)
    if body.research_use is not None and body.research_use != lesson.research_use:
        audit.record(
            session, user.id, "lesson.research_use", "lesson", lesson.id,
            client=client_of(request), before=lesson.research_use, after=body.research_use,
        )  # fmt: skip
        lesson.research_use = body.research_use
        session.commit()
    before = lesson.consent
    if body.consent is not None and body.consent != before:
        lesson.consent = body.consent
        for clip in session.scalars(select(Clip).where(Clip.lesson_id == lesson.id)):
            forget_render(storage, clip)
        audit.record(
            session, user.id, "lesson.consent", "lesson", lesson.id, client=client_of(request),
            before=before.value, after=body.consent.value,
        )  # fmt: skip
        session.commit()
    return lesson
