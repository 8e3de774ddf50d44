"""Research exports: a lesson as ELAN, Praat TextGrid or CSV, and zips of many for a coach's
batch or an admin's chosen lessons (builders in pipeline/exports.py).

Only lessons whose consent covers research use (`Lesson.research_use`) leave: a single export of
another is 409 `research_use_excluded`; a zip leaves it out and names it in README.txt with the
reason. What goes into a lesson's files is what the requester may see through the API anyway:
the transcript and talk analytics (for those who may read the transcript, and an admin taking a
research export), the clips they see with those clips' tags and comments, the lesson's comments
when they may read them, and the action steps they see that name one of those clips. Adults
appear by name only, never by email; pupils' names on the class lists never (each is [pupil]
in the transcript and the questions). Every export is audited per lesson (`lesson.export`),
and a zip also as a whole.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, StorageDep, client_of
from api.errors import CodedHTTPException, responses
from api.services.batches import ZipSink, batch_items, own_batch, safe_stem
from api.services.lessons import no_transcript, stored_analytics
from api.services.pupilnames import lesson_names_list, shown_analytics
from models import audit
from models.access import (
    action_step_filter,
    clip_filter,
    readable_comment,
    require_admin,
    require_lesson_content,
    visible_lesson,
)
from models.account import Role, User, new_id
from models.action_steps import ActionStep, ActionStepClip, ActionStepStrand
from models.coaching import Clip, ClipTag, Comment
from models.consent import RESEARCH_EXCLUDED
from models.framework import Strand
from models.lesson import Lesson, LessonStatus, lesson_key
from models.storage import Storage
from pipeline.exports import (
    ClipRecord,
    CommentRecord,
    LessonRecord,
    StepRecord,
    TagRecord,
    csv_bytes,
    eaf_bytes,
    readme_text,
    textgrid_bytes,
)
from pipeline.pupilnames import NameList
from pipeline.redact import shown_transcript
from pipeline.transcript import Transcript

router = APIRouter(tags=["exports"])

FORMATS: dict[str, tuple[str, Callable[[LessonRecord], bytes]]] = {
    "eaf": ("text/x-eaf+xml; charset=utf-8", eaf_bytes),
    "TextGrid": ("text/plain; charset=utf-8", textgrid_bytes),
    "csv": ("text/csv; charset=utf-8", csv_bytes),
}
MAX_ADMIN_LESSONS = 200
EXCLUDED_REASON = "its consent excludes research use"


def research_refusal() -> CodedHTTPException:
    return CodedHTTPException(
        409,
        "This lesson's consent excludes research use, so it cannot be exported; its owner or "
        f"an admin can change that with the consent setting [{RESEARCH_EXCLUDED}].",
        code=RESEARCH_EXCLUDED,
    )


@dataclass(frozen=True)
class _Coaching:
    """What of a lesson's coaching the requester sees, read while the session is open."""

    lesson_id: str
    title: str
    duration: float | None
    clips: tuple[ClipRecord, ...]
    comments: tuple[CommentRecord, ...]
    steps: tuple[StepRecord, ...]
    pupil_names: NameList | None = None
    """The class-list names replaced by [pupil]: every research export leaves them out, whoever
    asks, since its files are for reading outside the coaching pair."""


def _names(session: Session, ids: set[str | None]) -> dict[str, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


def _strand_label(strand: Strand) -> str:
    return f"{strand.code} {strand.title}".strip()


def _coaching(session: Session, user: User, lesson: Lesson) -> _Coaching:
    clips = list(
        session.scalars(
            select(Clip)
            .where(Clip.lesson_id == lesson.id, clip_filter(user))
            .order_by(Clip.start, Clip.id)
        )
    )
    clip_ids = [c.id for c in clips]
    tags = session.execute(
        select(ClipTag, Strand)
        .join(Strand, Strand.id == ClipTag.strand_id)
        .where(ClipTag.clip_id.in_(clip_ids))
        .order_by(ClipTag.created_at, Strand.id)
    ).all()
    on_lesson = (
        Comment.lesson_id == lesson.id
        if user.role != Role.admin or lesson.owner_id == user.id  # who may read lesson comments
        else false()
    )
    comments = list(
        session.scalars(
            select(Comment)
            .where(
                or_(Comment.clip_id.in_(clip_ids), on_lesson),
                readable_comment(user),
            )
            .order_by(Comment.created_at, Comment.id)
        )
    )
    steps = list(
        session.scalars(
            select(ActionStep)
            .where(
                action_step_filter(user),
                or_(
                    ActionStep.evidence_clip_id.in_(clip_ids),
                    ActionStep.id.in_(
                        select(ActionStepClip.step_id).where(ActionStepClip.clip_id.in_(clip_ids))
                    ),
                ),
            )
            .order_by(ActionStep.created_at, ActionStep.id)
        )
    )
    step_ids = [s.id for s in steps]
    step_clips: dict[str, list[str]] = {}
    for step_id, clip_id in session.execute(
        select(ActionStepClip.step_id, ActionStepClip.clip_id).where(
            ActionStepClip.step_id.in_(step_ids), ActionStepClip.clip_id.in_(clip_ids)
        )
    ):
        step_clips.setdefault(step_id, []).append(clip_id)
    step_strands: dict[str, list[str]] = {}
    for step_id, strand_id in session.execute(
        select(ActionStepStrand.step_id, ActionStepStrand.strand_id).where(
            ActionStepStrand.step_id.in_(step_ids)
        )
    ):
        step_strands.setdefault(step_id, []).append(strand_id)
    names = _names(
        session,
        {c.author_id for c in clips}
        | {t.tagged_by for t, _ in tags}
        | {m.author_id for m in comments}
        | {s.set_by for s in steps},
    )
    starts = {c.id: c.start for c in clips}
    tags_of: dict[str, list[TagRecord]] = {}
    for tag, strand in tags:
        tags_of.setdefault(tag.clip_id, []).append(
            TagRecord(strand.id, _strand_label(strand), names.get(tag.tagged_by or "", ""))
        )
    return _Coaching(
        pupil_names=lesson_names_list(session, lesson),
        lesson_id=lesson.id,
        title=lesson.title,
        duration=lesson.duration,
        clips=tuple(
            ClipRecord(
                id=c.id,
                start=c.start,
                end=c.end,
                title=c.title,
                note=c.note,
                author=names.get(c.author_id or "", ""),
                tags=tuple(tags_of.get(c.id, ())),
            )
            for c in clips
        ),
        comments=tuple(
            CommentRecord(
                m.id,
                (starts[m.clip_id] + m.at) if m.clip_id else m.at,
                m.kind.value,
                m.body,
                names.get(m.author_id or "", ""),
                m.clip_id,
                m.parent_id,
            )
            for m in comments
        ),
        steps=tuple(
            StepRecord(
                id=s.id,
                instruction=s.instruction,
                status=s.status.value,
                target_date=s.target_date.isoformat(),
                set_by=names.get(s.set_by or "", ""),
                strands=tuple(sorted(step_strands.get(s.id, ()))),
                clip_ids=tuple(sorted(step_clips.get(s.id, ()))),
            )
            for s in steps
        ),
    )


def _has_transcript(storage: Storage, lesson_id: str) -> bool:
    return storage.exists(lesson_key(lesson_id, "transcript.json"))


def _record(storage: Storage, coaching: _Coaching) -> LessonRecord:
    """The lesson's record from storage (transcript, analytics) and what was read of its
    coaching; storage only, so a zip's stream builds it after the session is closed."""
    raw = storage.get_bytes(lesson_key(coaching.lesson_id, "transcript.json"))
    transcript = shown_transcript(Transcript.from_dict(json.loads(raw)), (), coaching.pupil_names)
    analytics = stored_analytics(storage, coaching.lesson_id, coaching.duration, transcript)
    if analytics is not None:
        analytics = shown_analytics(analytics, coaching.pupil_names)
    duration = coaching.duration or transcript.duration
    return LessonRecord(
        id=coaching.lesson_id,
        title=coaching.title,
        duration=duration,
        transcript=transcript,
        timeline=analytics.timeline if analytics else (),
        questions=analytics.questions if analytics else (),
        clips=coaching.clips,
        comments=coaching.comments,
        steps=coaching.steps,
    )


def _export_route(fmt: str) -> None:
    media_type, build = FORMATS[fmt]

    @router.get(
        f"/lessons/{{lesson_id}}/export.{fmt}",
        response_class=Response,
        responses={**responses(403, 404, 409), 200: {"content": {media_type.split(";")[0]: {}}}},
        name=f"export_{fmt.lower()}",
        summary=f"Research export as {fmt}",
    )
    def export(
        lesson_id: str,
        request: Request,
        user: CurrentUser,
        session: SessionDep,
        storage: StorageDep,
    ) -> Response:
        """The lesson as a research export (ELAN .eaf, Praat TextGrid, or CSV of clips, tags,
        comments and action steps), for those who may read its transcript; 409
        `research_use_excluded` when its consent excludes research use. Audited."""
        lesson = visible_lesson(session, user, lesson_id)
        require_lesson_content(user, lesson)
        if not lesson.research_use:
            raise research_refusal()
        if not _has_transcript(storage, lesson.id):
            raise no_transcript(lesson)
        coaching = _coaching(session, user, lesson)
        audit.record(
            session, user.id, "lesson.export", "lesson", lesson.id, client=client_of(request),
            format=fmt,
        )  # fmt: skip
        session.commit()
        return Response(
            build(_record(storage, coaching)),
            media_type=media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{coaching.lesson_id}.{fmt}"',
                "Cache-Control": "private",
            },
        )


for _fmt in FORMATS:
    _export_route(_fmt)


def _left_out_reason(storage: Storage, lesson: Lesson) -> str | None:
    """Why a lesson is not in a research zip, or None when it goes in."""
    if not lesson.research_use:
        return EXCLUDED_REASON
    if lesson.status != LessonStatus.ready and not _has_transcript(storage, lesson.id):
        return f"not processed yet ({lesson.status.value})"
    if not _has_transcript(storage, lesson.id):
        return str(no_transcript(lesson).detail)
    return None


def _research_zip(
    session: Session,
    storage: Storage,
    user: User,
    request: Request,
    title: str,
    lessons: list[tuple[str, str, Lesson | None, str]],
    filename: str,
    event: tuple[str, str, str],
) -> StreamingResponse:
    """A zip of each included lesson as EAF, TextGrid and CSV, and README.txt; `lessons` is
    (id, name shown, the lesson or None, why it is missing then). `event` (action, object type,
    id) is the audit event of the whole export, recorded with the lessons included and left out."""
    plan: list[_Coaching] = []
    left_out: list[tuple[str, str, str]] = []
    client = client_of(request)
    for lesson_id, name, lesson, missing in lessons:
        if lesson is None:
            left_out.append((lesson_id, name, missing))
            continue
        reason = _left_out_reason(storage, lesson)
        if reason is not None:
            left_out.append((lesson_id, lesson.title, reason))
            continue
        plan.append(_coaching(session, user, lesson))
        audit.record(
            session, user.id, "lesson.export", "lesson", lesson_id, client=client,
            format="research-zip",
        )  # fmt: skip
    readme = readme_text(title, [(c.lesson_id, c.title) for c in plan], left_out)
    action, object_type, object_id = event
    audit.record(
        session, user.id, action, object_type, object_id, client=client,
        included=[c.lesson_id for c in plan], left_out=[i for i, _, _ in left_out],
    )  # fmt: skip
    session.commit()

    def stream() -> Iterator[bytes]:
        sink = ZipSink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for coaching in plan:
                record = _record(storage, coaching)
                for fmt, (_, build) in FORMATS.items():
                    archive.writestr(f"{coaching.lesson_id}.{fmt}", build(record))
                yield sink.take()
            archive.writestr("README.txt", readme)
        yield sink.take()

    return StreamingResponse(
        stream(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private",
        },
    )


ZIP_RESPONSES = {**responses(403, 404, 422), 200: {"content": {"application/zip": {}}}}


@router.get(
    "/batches/{batch_id}/research-export.zip",
    response_class=StreamingResponse,
    responses=ZIP_RESPONSES,
)
def batch_research_export(
    batch_id: str, request: Request, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> StreamingResponse:
    """Every lesson of your batch as ELAN, TextGrid and CSV, with README.txt naming the lessons
    left out and why (consent excluding research use, not processed, no transcript). Audited
    for the batch and for each lesson."""
    batch = own_batch(session, user, batch_id)
    lessons = [
        (
            item.lesson_id or item.source_name,
            item.source_name,
            lesson,
            item.error_message or "the lesson made from it no longer exists",
        )
        for item, lesson in batch_items(session, user, batch)
    ]
    title = f"batch {batch.name or batch.id}"
    filename = safe_stem(batch.name, f"batch-{batch.id}") + "-research.zip"
    event = ("batch.research_export", "batch", batch.id)
    return _research_zip(session, storage, user, request, title, lessons, filename, event)


@router.get(
    "/admin/research-export.zip",
    response_class=StreamingResponse,
    responses=ZIP_RESPONSES,
    tags=["admin"],
)
def admin_research_export(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    lesson_ids: Annotated[
        list[str],
        Query(
            min_length=1,
            max_length=MAX_ADMIN_LESSONS,
            description="The lessons to export (repeat the parameter for each).",
        ),
    ],
) -> StreamingResponse:
    """Chosen lessons as ELAN, TextGrid and CSV for research (administrators), with README.txt
    naming those left out and why. An admin does not see clips or comments, so the files hold
    the transcript, speakers and questions. Audited for the request and for each lesson."""
    require_admin(user)
    wanted = list(dict.fromkeys(lesson_ids))
    if any(len(i) > 64 for i in wanted):
        raise HTTPException(422, "A lesson id is at most 64 characters.")
    found = {
        lesson.id: lesson for lesson in session.scalars(select(Lesson).where(Lesson.id.in_(wanted)))
    }
    lessons = [
        (i, found[i].title if i in found else "unknown id", found.get(i), "no such lesson")
        for i in wanted
    ]
    event = ("admin.research_export", "export", new_id())
    return _research_zip(
        session, storage, user, request, "chosen lessons", lessons, "research-export.zip", event
    )
