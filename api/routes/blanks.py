"""Blanked moments of a lesson (models.blanks): listed, added and removed by its owner, their
mentor or an admin; every change is audited and re-renders the clips it touches. Adding one
sends the blank worker (`clipcoach.lesson.blank`), which rewrites the stored lesson over it.

A blank written into the stored lesson (`applied`) cannot be removed: the recording it replaced
is gone (409 `blank_applied`); nor can one being written (409 `blank_applying`). A pending or
failed one can: its row goes, and clips over it are rendered again without it."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, StorageDep, TaskQueueDep, client_of
from api.errors import CodedHTTPException, responses
from api.schemas import BlankCreate, BlankPublic
from models import audit, queue
from models.access import NotVisibleError, require_blank, visible_lesson
from models.blanks import MIN_BLANK_SECONDS, BlankStatus, LessonBlank, overlaps
from models.coaching import Clip, forget_render
from models.lesson import LessonStatus
from models.storage import Storage

router = APIRouter(prefix="/lessons", tags=["lessons"])
log = logging.getLogger(__name__)


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
    responses=responses(403, 404, 409),
)
def add_blank(
    lesson_id: str,
    body: BlankCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
) -> LessonBlank:
    """Blank a moment: the stored recording is made black and silent there and the words said
    in it are removed from every transcript (by a worker: `status` says when it is done), and
    every rendered clip over it shows the same at once (owner, their mentor or admin; audited).
    409 `lesson_not_ready` while the lesson is being processed: blank it once it is ready."""
    lesson = visible_lesson(session, user, lesson_id)
    require_blank(user, lesson)
    if lesson.status != LessonStatus.ready:
        raise CodedHTTPException(
            409,
            f"The lesson is {lesson.status.value}; a moment can be blanked once it is ready.",
            "lesson_not_ready",
        )
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
    try:
        tasks.send(queue.BLANK_LESSON, lesson.id)
    except Exception:  # the blank stands (clips honour it); say the stored lesson is not blanked
        log.warning("lesson %s: could not queue blanking", lesson.id, exc_info=True)
        blank.status = BlankStatus.failed
        blank.error_code = "queue_unavailable"
        blank.error_message = (
            "The processing queue was unavailable, so the stored recording was not blanked; "
            "clips over the moment are black and silent. Remove this blank and add it again."
        )
        session.commit()
    return blank


@router.delete(
    "/{lesson_id}/blanks/{blank_id}", status_code=204, responses=responses(403, 404, 409)
)
def remove_blank(
    lesson_id: str,
    blank_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
) -> Response:
    """Un-blank a moment marked by mistake, while the stored lesson is not yet rewritten over
    it (owner, their mentor or admin; audited). 409 `blank_applied` once it is: the recording
    it replaced is gone; 409 `blank_applying` while the worker is writing it."""
    lesson = visible_lesson(session, user, lesson_id)
    blank = session.get(LessonBlank, blank_id)
    if blank is None or blank.lesson_id != lesson.id:
        raise NotVisibleError("blanked moment")
    require_blank(user, lesson)
    if blank.status == BlankStatus.applied:
        raise CodedHTTPException(
            409,
            "This moment is blanked in the stored recording, which replaced the original: "
            "it cannot be brought back.",
            "blank_applied",
        )
    if blank.status == BlankStatus.applying:
        raise CodedHTTPException(
            409,
            "This moment is being blanked in the stored recording; once that is done it "
            "cannot be brought back.",
            "blank_applying",
        )
    clips = _rerender_over(session, storage, lesson.id, blank.start, blank.end)
    audit.record(
        session, user.id, "lesson.unblank", "lesson", lesson.id, client=client_of(request),
        blank_id=blank.id, start=blank.start, end=blank.end, clips=clips,
    )  # fmt: skip
    session.delete(blank)
    session.commit()
    return Response(status_code=204)
