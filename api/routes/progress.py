"""An ECT's progress over the two induction years: evidence for a conversation, never a score.

For the ECT themself, their paired mentors and admins (the induction lead); anyone else gets
404 (models.access.visible_ect). Each sees the evidence their role allows:

    ECT      every clip of their lessons they see, their own private reflections included
    mentor   the shared record: clips of the ECT's lessons that both see (the mentor's clips
             shared with the ECT, the ECT's reflections shared with this mentor)
    admin    the shared record as counts and dates only: no clip titles or links (an admin
             does not watch recordings)

Lessons are counted from their records (every viewer here may see those); the talk figures are
numbers from each ready lesson's stored analytics, without the transcript's words. The counting
and the half-terms are models.progress.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, StorageDep, client_of
from api.errors import responses
from api.schemas import (
    ProgressClip,
    ProgressPublic,
    ProgressSteps,
    ProgressStrand,
    ProgressTalk,
    ProgressTerm,
    UserBrief,
)
from api.services.lessons import lesson_analytics
from models import audit
from models.access import action_step_filter, active_share, clip_filter, visible_ect
from models.account import Role, User
from models.action_steps import CURRENT, ActionStep, StepStatus
from models.coaching import Clip, ClipTag, Share
from models.db import utcnow
from models.framework import Strand
from models.lesson import Lesson, LessonStatus
from models.progress import ClipRecord, LessonRecord, StepRecord, gather
from models.storage import Storage
from pipeline.analytics import TalkAnalytics

router = APIRouter(tags=["progress"])

NOTE = (
    "These are records of what happened (lessons observed, clips tagged with framework strands, "
    "action steps and talk figures), gathered as evidence for a conversation between mentor and "
    "teacher. They are never a score or a grade of the teacher."
)
HALF_TERMS_NOTE = (
    "Half-terms are approximate (1 Sep-31 Oct, Nov-Dec, 1 Jan-14 Feb, 15 Feb-Easter, "
    "Easter-31 May, Jun-Aug): schools' own dates differ by a week or so. A lesson counts on the "
    "day it was uploaded."
)


def _evidence_clips(user: User, ect: User) -> ColumnElement[bool]:
    """The condition on `Clip` for the clips that count as evidence for
    `user` looking at `ect`'s progress (see the module's table)."""
    lessons = select(Lesson.id).where(Lesson.owner_id == ect.id)
    of_ect = and_(Clip.lesson_id.in_(lessons), clip_filter(ect))
    if user.id == ect.id:
        return of_ect
    shared = exists().where(Share.clip_id == Clip.id, active_share()).correlate(Clip)
    record = and_(of_ect, shared)
    return record if user.role == Role.admin else and_(record, clip_filter(user))


def _talk(lesson: Lesson, result: TalkAnalytics) -> ProgressTalk:
    teacher = next((t.share for t in result.talk if t.label == "teacher"), 0.0)
    return ProgressTalk(
        lesson_id=lesson.id,
        lesson_title=lesson.title or lesson.source_filename,
        day=lesson.created_at.date(),
        duration=lesson.duration,
        long_wait_share=result.long_wait_share,
        questions_per_ten_minutes=result.questions_per_ten_minutes,
        teacher_share=teacher if result.speakers else None,
    )


def _talk_figures(storage: Storage, lessons: list[Lesson]) -> list[ProgressTalk]:
    """Each ready lesson's figures; a lesson without a transcript has none and is left out."""
    figures = []
    for lesson in lessons:
        if lesson.status != LessonStatus.ready:
            continue
        try:
            figures.append(_talk(lesson, lesson_analytics(storage, lesson)))
        except HTTPException:  # no sound, transcription off: no figures to show
            continue
    return figures


def build(session: Session, storage: Storage, user: User, ect_id: str) -> ProgressPublic:
    ect = visible_ect(session, user, ect_id)
    today = utcnow().date()
    lessons = list(
        session.scalars(
            select(Lesson).where(Lesson.owner_id == ect.id).order_by(Lesson.created_at, Lesson.id)
        )
    )
    titles = {lesson.id: lesson.title or lesson.source_filename for lesson in lessons}
    clips = list(
        session.scalars(
            select(Clip).where(_evidence_clips(user, ect)).order_by(Clip.created_at, Clip.id)
        )
    )
    tags: dict[str, list[str]] = defaultdict(list)
    for clip_id, strand_id in session.execute(
        select(ClipTag.clip_id, ClipTag.strand_id).where(ClipTag.clip_id.in_([c.id for c in clips]))
    ):
        tags[clip_id].append(strand_id)
    steps = list(
        session.scalars(
            select(ActionStep).where(ActionStep.ect_id == ect.id, action_step_filter(user))
        )
    )
    evidence = gather(
        [LessonRecord(lesson.id, lesson.created_at.date()) for lesson in lessons],
        [ClipRecord(c.id, c.lesson_id, c.created_at.date(), tuple(tags[c.id])) for c in clips],
        [
            StepRecord(
                s.created_at.date(),
                s.status.value,
                s.practised_at.date() if s.practised_at else None,
                s.reviewed_at.date() if s.reviewed_at else None,
            )
            for s in steps
        ],
        ect.induction_start,
        today,
    )
    strands = {
        s.id: s
        for s in session.scalars(
            select(Strand).where(Strand.id.in_([e.strand_id for e in evidence.strands]))
        )
    }
    by_id = {c.id: c for c in clips}
    opens = user.role != Role.admin

    def latest(clip_id: str) -> ProgressClip:
        clip = by_id[clip_id]
        return ProgressClip(
            id=clip.id if opens else None,
            title=clip.title if opens else "",
            lesson_title=titles.get(clip.lesson_id, ""),
            day=clip.created_at.date(),
            href=f"/clips/{clip.id}" if opens else None,
        )

    counts = {status: sum(s.status == status for s in steps) for status in StepStatus}
    return ProgressPublic(
        ect=UserBrief.model_validate(ect),
        induction_start=ect.induction_start,
        today=today,
        note=NOTE,
        half_terms_note=HALF_TERMS_NOTE,
        terms=[
            ProgressTerm(
                key=t.term.key,
                label=t.term.label,
                start=t.term.start,
                end=t.term.end,
                **t.measures(),
            )
            for t in evidence.terms
        ],
        strands=[
            ProgressStrand(
                id=e.strand_id,
                framework_id=strands[e.strand_id].framework_id,
                standard=strands[e.strand_id].standard,
                code=strands[e.strand_id].code,
                title=strands[e.strand_id].title,
                clips=e.clips,
                latest=latest(e.latest_clip_id),
            )
            for e in evidence.strands
            if e.strand_id in strands
        ],
        steps=ProgressSteps(
            set=len(steps),
            practised=sum(s.practised_at is not None for s in steps),
            closed=counts[StepStatus.closed],
            carried=counts[StepStatus.carried],
            current=sum(s.status in CURRENT for s in steps),
        ),
        talk=_talk_figures(storage, lessons),
    )


def _audit(session: Session, request: Request, user: User, ect_id: str, fmt: str) -> None:
    audit.record(
        session, user.id, "ect.progress", "user", ect_id, client=client_of(request), format=fmt
    )
    session.commit()


@router.get("/ects/{user_id}/progress", response_model=ProgressPublic, responses=responses(404))
def get_progress(
    user_id: str, request: Request, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> ProgressPublic:
    """An ECT's evidence over their induction: strands evidenced by tagged clips, lessons
    observed and clipped and action steps per (approximate) half-term, and each lesson's talk
    figures. For the ECT, their mentors and admins; evidence for a conversation, never a score."""
    progress = build(session, storage, user, user_id)
    _audit(session, request, user, progress.ect.id, "json")
    return progress


CSV_FIELDS = ("section", "item", "start", "end", "measure", "value")


def _cell(value: object) -> str:
    """Text a spreadsheet will not run as a formula (a title starting with = + - @)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(progress: ProgressPublic) -> str:
    """One tidy table: a row per (half-term, strand or lesson) and measure."""
    rows: list[tuple[object, ...]] = []
    for term in progress.terms:
        for measure in ProgressTerm.model_fields:
            if measure not in ("key", "label", "start", "end"):
                rows.append(("half_term", term.label, term.start, term.end, measure,
                             getattr(term, measure)))  # fmt: skip
    for strand in progress.strands:
        item = f"{strand.code} {strand.title}"
        rows.append(("strand", item, "", strand.latest.day, "clips", strand.clips))
    for talk in progress.talk:
        for measure in ("long_wait_share", "questions_per_ten_minutes", "teacher_share"):
            rows.append(("lesson_talk", talk.lesson_title, talk.day, talk.day, measure,
                         getattr(talk, measure)))  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()


@router.get(
    "/ects/{user_id}/progress.csv",
    response_class=Response,
    responses={**responses(404), 200: {"content": {"text/csv": {}}}},
)
def get_progress_csv(
    user_id: str, request: Request, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> Response:
    """The same evidence as CSV (section, item, start, end, measure, value) for a spreadsheet."""
    progress = build(session, storage, user, user_id)
    _audit(session, request, user, progress.ect.id, "csv")
    name = f"progress-{progress.ect.name.lower().replace(' ', '-')}-{progress.today}.csv"
    safe = "".join(ch for ch in name if ch.isalnum() or ch in "-_.") or "progress.csv"
    return Response(
        to_csv(progress),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )
