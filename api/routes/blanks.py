"""Blanked moments of a lesson (models.blanks): listed, added and removed by its owner, their
mentor or an admin; every change is audited and re-renders the clips it touches."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, StorageDep, client_of
from api.errors import responses
from api.schemas import BlankCreate, BlankPublic
from models import audit
from models.access import NotVisibleError, require_blank, visible_lesson
from models.blanks import MIN_BLANK_SECONDS, LessonBlank, overlaps
from models.coaching import Clip, forget_render
from models.storage import Storage

router = APIRouter(prefix="/lessons", tags=["lessons"])


def _rerender_over(session: Session, storage: Storage, lesson_id: str, s: float, e: float) -> int:
    """Throw away the renders of the lesson's clips over [s, e); return how many."""
    clips = session.scalars(select(Clip).where(Clip.lesson_id == lesson_id))
    touched = [c for c in clips if overlaps(c.start, c.end, s, e)]
    for clip in touched:
        forget_render(storage, clip)
    return len(touched)


@router.get("/{lesson_id}/blanks", response_model=list[BlankPublic], responses=responses(404))
def list_blanks(lesson_id: str, user: CurrentUser, session: SessionDep) -> list[LessonBlank]:
    """The lesson's blanked moments, in order (times only: anyone who sees the lesson)."""
    lesson = visible_lesson(session, user, lesson_id)
    return list(
        session.scalars(
            select(LessonBlank)
            .where(LessonBlank.lesson_id == lesson.id)
            .order_by(LessonBlank.start, LessonBlank.end)
        )
    )


@router.post(
    "/{lesson_id}/blanks",
    status_code=201,
    response_model=BlankPublic,
    responses=responses(403, 404),
)
def add_blank(
    lesson_id: str,
    body: BlankCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
) -> LessonBlank:
    """Blank a moment: every rendered clip over it shows black picture and silence there, and
    its captions leave out the words said in it (owner, their mentor or admin; audited)."""
    lesson = visible_lesson(session, user, lesson_id)
    require_blank(user, lesson)
    if body.end - body.start < MIN_BLANK_SECONDS:
        raise HTTPException(
            422, f"A blanked moment must end at least {MIN_BLANK_SECONDS} s after it starts."
        )
    if lesson.duration is not None and body.start >= lesson.duration:
        raise HTTPException(
            422, f"The moment starts after the lesson ends ({lesson.duration:.1f} s)."
        )
    end = min(body.end, lesson.duration) if lesson.duration is not None else body.end
    blank = LessonBlank(lesson_id=lesson.id, start=body.start, end=end, created_by=user.id)
    session.add(blank)
    session.flush()
    clips = _rerender_over(session, storage, lesson.id, blank.start, blank.end)
    audit.record(
        session, user.id, "lesson.blank", "lesson", lesson.id, client=client_of(request),
        blank_id=blank.id, start=blank.start, end=blank.end, clips=clips,
    )  # fmt: skip
    session.commit()
    return blank


@router.delete("/{lesson_id}/blanks/{blank_id}", status_code=204, responses=responses(403, 404))
def remove_blank(
    lesson_id: str,
    blank_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
) -> Response:
    """Un-blank a moment marked by mistake (owner, their mentor or admin; audited)."""
    lesson = visible_lesson(session, user, lesson_id)
    blank = session.get(LessonBlank, blank_id)
    if blank is None or blank.lesson_id != lesson.id:
        raise NotVisibleError("blanked moment")
    require_blank(user, lesson)
    clips = _rerender_over(session, storage, lesson.id, blank.start, blank.end)
    audit.record(
        session, user.id, "lesson.unblank", "lesson", lesson.id, client=client_of(request),
        blank_id=blank.id, start=blank.start, end=blank.end, clips=clips,
    )  # fmt: skip
    session.delete(blank)
    session.commit()
    return Response(status_code=204)
