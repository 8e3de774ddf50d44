"""Action steps: set by the ECT's mentor after an observation, practised by the ECT, reviewed.

Who sees and does what is models.access (`action_step_filter` and the `require_step_*` rules);
the states are models.action_steps. Every refusal carries a stable `code`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, client_of
from api.errors import CodedHTTPException, responses
from api.schemas import (
    ActionStepCarry,
    ActionStepClose,
    ActionStepCreate,
    ActionStepPractised,
    ActionStepPublic,
    ActionStepUpdate,
    ObservationSchedule,
    StepClip,
    StepStrand,
    UserBrief,
)
from api.services.shares import check_consent, share_with
from models import audit
from models.access import (
    action_step_filter,
    clip_filter,
    evidence_allowed,
    lesson_content_filter,
    mentor_ids,
    require_step_ect,
    require_step_setter,
    step_clips_refused,
    visible_action_step,
    visible_ect,
)
from models.account import Role, User
from models.action_steps import (
    CURRENT,
    ActionStep,
    ActionStepClip,
    ActionStepStrand,
    NotCurrentError,
    carry,
    close,
    last_observation,
    mark_practised,
    next_observation_due,
    require_current,
)
from models.coaching import Clip
from models.db import utcnow
from models.framework import Strand, ensure_builtin
from models.lesson import Lesson

router = APIRouter(tags=["action steps"])

ERRORS = responses(403, 404, 409)


def today() -> date:
    return utcnow().date()


def _brief(session: Session, user_id: str | None) -> UserBrief | None:
    user = session.get(User, user_id) if user_id else None
    return UserBrief.model_validate(user) if user else None


def _clip_view(session: Session, user: User, clip_id: str) -> StepClip:
    row = session.execute(
        select(Clip, Lesson).join(Lesson, Lesson.id == Clip.lesson_id).where(Clip.id == clip_id)
    ).first()
    if row is None:
        return StepClip(id=clip_id, viewable=False)
    clip, lesson = row
    sees_clip = session.scalar(select(Clip.id).where(Clip.id == clip.id, clip_filter(user)))
    sees_lesson = session.scalar(
        select(Lesson.id).where(Lesson.id == lesson.id, lesson_content_filter(user))
    )
    if not sees_clip and not sees_lesson:
        return StepClip(id=clip.id, viewable=False)
    href = f"/clips/{clip.id}" if sees_clip else f"/lessons/{lesson.id}?t={clip.start:g}"
    return StepClip(
        id=clip.id,
        viewable=True,
        title=clip.title if sees_clip else "",
        lesson_id=lesson.id,
        lesson_title=lesson.title,
        start=clip.start,
        end=clip.end,
        href=href,
    )


def step_public(session: Session, user: User, step: ActionStep) -> ActionStepPublic:
    strands = session.scalars(
        select(Strand)
        .join(ActionStepStrand, ActionStepStrand.strand_id == Strand.id)
        .where(ActionStepStrand.step_id == step.id)
        .order_by(Strand.framework_id, Strand.position)
    )
    clip_ids = session.scalars(
        select(ActionStepClip.clip_id).where(ActionStepClip.step_id == step.id)
    )
    ect = _brief(session, step.ect_id)
    assert ect is not None  # noqa: S101 - steps cascade with their ECT
    return ActionStepPublic(
        id=step.id,
        ect=ect,
        set_by=_brief(session, step.set_by),
        instruction=step.instruction,
        target_date=step.target_date,
        status=step.status,
        strands=[
            StepStrand(id=s.id, framework_id=s.framework_id, code=s.code, title=s.title)
            for s in strands
        ],
        clips=[_clip_view(session, user, c) for c in clip_ids],
        practice_note=step.practice_note,
        practised_at=step.practised_at,
        evidence=_clip_view(session, user, step.evidence_clip_id)
        if step.evidence_clip_id
        else None,
        review_note=step.review_note,
        reviewed_at=step.reviewed_at,
        reviewed_by=_brief(session, step.reviewed_by),
        carried_from_id=step.carried_from_id,
        created_at=step.created_at,
        overdue=step.status in CURRENT and step.target_date < today(),
    )


def _future(target: date) -> date:
    if target < today():
        raise CodedHTTPException(
            422, "The target date has passed: choose today or a later day.", "target_date_past"
        )
    return target


def _strands(session: Session, strand_ids: Sequence[str]) -> list[str]:
    ensure_builtin(session)
    wanted = list(dict.fromkeys(strand_ids))
    known = set(session.scalars(select(Strand.id).where(Strand.id.in_(wanted))))
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise CodedHTTPException(
            422,
            f"Unknown strand ids: {', '.join(unknown)}. See GET /api/v1/frameworks.",
            "unknown_strand",
        )
    return wanted


def _clips(session: Session, setter: User, ect: User, clip_ids: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(clip_ids))
    refused = step_clips_refused(session, setter, ect, wanted)
    if refused:
        raise CodedHTTPException(
            422,
            "A step's clips must be clips you can open that the ECT can see or that are of "
            f"their lessons; not these: {', '.join(refused)}.",
            "action_step_clip_not_allowed",
        )
    return wanted


def _link(session: Session, step: ActionStep, strand_ids: list[str], clip_ids: list[str]) -> None:
    for strand_id in strand_ids:
        session.add(ActionStepStrand(step_id=step.id, strand_id=strand_id))
    for clip_id in clip_ids:
        session.add(ActionStepClip(step_id=step.id, clip_id=clip_id))


def _current(step: ActionStep) -> None:
    try:
        require_current(step)
    except NotCurrentError as exc:
        raise CodedHTTPException(409, str(exc), "action_step_not_current") from None


def _audit(session: Session, request: Request, user: User, action: str, step: ActionStep,
           **detail: object) -> None:  # fmt: skip
    audit.record(
        session, user.id, action, "action_step", step.id, client=client_of(request),
        ect_id=step.ect_id, **detail,
    )  # fmt: skip


@router.get("/action-steps", response_model=list[ActionStepPublic], responses=ERRORS)
def list_steps(
    user: CurrentUser,
    session: SessionDep,
    ect_id: Annotated[str | None, Query(max_length=64)] = None,
    current: Annotated[bool, Query(description="Only open and practised steps.")] = False,
) -> list[ActionStepPublic]:
    """The action steps you may see (yours, your ECTs', or all for an admin), by target date."""
    stmt = select(ActionStep).where(action_step_filter(user))
    if ect_id is not None:
        visible_ect(session, user, ect_id)
        stmt = stmt.where(ActionStep.ect_id == ect_id)
    if current:
        stmt = stmt.where(ActionStep.status.in_(CURRENT))
    stmt = stmt.order_by(ActionStep.target_date, ActionStep.created_at, ActionStep.id)
    return [step_public(session, user, s) for s in session.scalars(stmt)]


@router.post("/action-steps", status_code=201, response_model=ActionStepPublic, responses=ERRORS)
def create_step(
    body: ActionStepCreate, request: Request, user: CurrentUser, session: SessionDep
) -> ActionStepPublic:
    """Set an action step for one of your ECTs (mentor) or any ECT (admin)."""
    if user.role not in (Role.mentor, Role.admin):
        require_step_setter(session, user, body.ect_id)
    ect = visible_ect(session, user, body.ect_id)
    require_step_setter(session, user, ect.id)
    strand_ids = _strands(session, body.strand_ids)
    clip_ids = _clips(session, user, ect, body.clip_ids)
    step = ActionStep(
        ect_id=ect.id,
        set_by=user.id,
        instruction=body.instruction,
        target_date=_future(body.target_date),
    )
    session.add(step)
    session.flush()
    _link(session, step, strand_ids, clip_ids)
    _audit(session, request, user, "action_step.create", step)
    session.commit()
    return step_public(session, user, step)


@router.get("/action-steps/{step_id}", response_model=ActionStepPublic, responses=ERRORS)
def get_step(step_id: str, user: CurrentUser, session: SessionDep) -> ActionStepPublic:
    return step_public(session, user, visible_action_step(session, user, step_id))


@router.patch("/action-steps/{step_id}", response_model=ActionStepPublic, responses=ERRORS)
def update_step(
    step_id: str,
    body: ActionStepUpdate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
) -> ActionStepPublic:
    """Change a current step's words, strands, clips or target date (its mentor or an admin)."""
    step = visible_action_step(session, user, step_id)
    require_step_setter(session, user, step.ect_id)
    _current(step)
    ect = session.get(User, step.ect_id)
    assert ect is not None  # noqa: S101 - steps cascade with their ECT
    if body.instruction is not None:
        step.instruction = body.instruction
    if body.target_date is not None:
        step.target_date = _future(body.target_date)
    if body.strand_ids is not None:
        strand_ids = _strands(session, body.strand_ids)
        for row in session.scalars(
            select(ActionStepStrand).where(ActionStepStrand.step_id == step.id)
        ):
            session.delete(row)
        session.flush()
        _link(session, step, strand_ids, [])
    if body.clip_ids is not None:
        clip_ids = _clips(session, user, ect, body.clip_ids)
        for clip_row in session.scalars(
            select(ActionStepClip).where(ActionStepClip.step_id == step.id)
        ):
            session.delete(clip_row)
        session.flush()
        _link(session, step, [], clip_ids)
    _audit(
        session, request, user, "action_step.update", step,
        fields=sorted(body.model_dump(exclude_unset=True)),
    )  # fmt: skip
    session.commit()
    return step_public(session, user, step)


@router.post("/action-steps/{step_id}/practised", response_model=ActionStepPublic, responses=ERRORS)
def practised(
    step_id: str,
    body: ActionStepPractised,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
) -> ActionStepPublic:
    """Say you practised your step, with a note and perhaps a later clip of your own lesson as
    evidence (it is shared with your mentor so they can review it)."""
    step = visible_action_step(session, user, step_id)
    require_step_ect(user, step)
    _current(step)
    evidence = body.evidence_clip_id
    if evidence is not None:
        if not evidence_allowed(session, user, evidence):
            raise CodedHTTPException(
                422,
                "Evidence is a clip of one of your own lessons; that clip is not.",
                "evidence_clip_not_allowed",
            )
        clip = session.get(Clip, evidence)
        lesson = session.get(Lesson, clip.lesson_id) if clip else None
        assert clip is not None  # noqa: S101 - checked just above
        assert lesson is not None  # noqa: S101 - a clip has its lesson (foreign key)
        check_consent(lesson)
        if clip.author_id == user.id:  # their own reflection: their mentor sees it from now
            for mentor in mentor_ids(session, user.id):
                share_with(session, user, clip, mentor, None, client_of(request))
    mark_practised(step, body.note, evidence)
    _audit(session, request, user, "action_step.practised", step, evidence_clip_id=evidence)
    session.commit()
    return step_public(session, user, step)


@router.post("/action-steps/{step_id}/close", response_model=ActionStepPublic, responses=ERRORS)
def close_step(
    step_id: str,
    body: ActionStepClose,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
) -> ActionStepPublic:
    """Review the step and close it (its mentor or an admin)."""
    step = visible_action_step(session, user, step_id)
    require_step_setter(session, user, step.ect_id)
    _current(step)
    close(step, user.id, body.note)
    _audit(session, request, user, "action_step.close", step)
    session.commit()
    return step_public(session, user, step)


@router.post(
    "/action-steps/{step_id}/carry",
    status_code=201,
    response_model=ActionStepPublic,
    responses=ERRORS,
)
def carry_step(
    step_id: str,
    body: ActionStepCarry,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
) -> ActionStepPublic:
    """Carry the step forward to a new target date: this one ends as carried and the answer is
    its open copy (same words, strands and clips)."""
    step = visible_action_step(session, user, step_id)
    require_step_setter(session, user, step.ect_id)
    _current(step)
    fresh = carry(step, user.id, body.note, _future(body.target_date))
    session.add(fresh)
    session.flush()
    strand_ids = list(
        session.scalars(
            select(ActionStepStrand.strand_id).where(ActionStepStrand.step_id == step.id)
        )
    )
    clip_ids = list(
        session.scalars(select(ActionStepClip.clip_id).where(ActionStepClip.step_id == step.id))
    )
    _link(session, fresh, strand_ids, clip_ids)
    _audit(session, request, user, "action_step.carry", step, carried_to=fresh.id)
    session.commit()
    return step_public(session, user, fresh)


@router.get("/observation-schedule", response_model=ObservationSchedule, responses=ERRORS)
def observation_schedule(
    user: CurrentUser,
    session: SessionDep,
    ect_id: Annotated[str | None, Query(max_length=64, description="Yours if left out.")] = None,
) -> ObservationSchedule:
    """When the ECT's next observation is due: weekly in induction year one, fortnightly in
    year two, from the day their latest action step was set."""
    ect = visible_ect(session, user, ect_id or user.id)
    last = last_observation(session, ect.id)
    due = next_observation_due(ect.induction_start, last, today())
    return ObservationSchedule(
        ect=UserBrief.model_validate(ect),
        induction_start=ect.induction_start,
        induction_year=due.induction_year,
        interval_days=due.interval_days,
        last_observation=last,
        next_observation_due=due.due,
    )
