"""Clips: how one reads to a client (`clip_public`), the range a clip may have, and getting its
rendered MP4 and captions made (`rendered_or_queue`, `render_for_recipient`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.schemas import ClipPublic, UserBrief
from api.services.errors import ConflictError, InvalidError, UnavailableError
from api.services.tags import tags_of
from models import queue
from models.access import is_mentor_of, readable_comment
from models.account import User
from models.coaching import (
    MAX_CLIP_SECONDS,
    MIN_CLIP_SECONDS,
    Clip,
    Comment,
    RenderStatus,
    clip_media_key,
    forget_render,
)
from models.consent import ConsentRefusedError, check_view, rendition_for
from models.db import utcnow
from models.lesson import Lesson, LessonStatus
from models.queue import TaskQueue
from models.storage import Storage
from models.transcripts import transcript_words

RENDER_STALE = timedelta(minutes=15)
"""A render queued longer ago than this is assumed lost (worker died) and is queued again."""
RENDER_RETRY_AFTER_SECONDS = 3


def user_brief(session: Session, user_id: str | None) -> UserBrief | None:
    user = session.get(User, user_id) if user_id else None
    return UserBrief.model_validate(user) if user else None


def comment_counts(session: Session, user: User, clip_ids: Sequence[str]) -> dict[str, int]:
    """Per clip, the comments `user` would read in its thread (`models.access.comment_filter`):
    a count must not tell one ECT that another wrote on a model clip they both see."""
    rows = session.execute(
        select(Comment.clip_id, func.count())
        .where(Comment.clip_id.in_(clip_ids), readable_comment(user))
        .group_by(Comment.clip_id)
    )
    counts = {cid: 0 for cid in clip_ids}
    counts.update({cid: n for cid, n in rows if cid is not None})
    return counts


def clip_public(session: Session, user: User, clips: Sequence[Clip]) -> list[ClipPublic]:
    """The clips as `user` reads them (their comment counts are of what `user` may read)."""
    ids = [c.id for c in clips]
    tags, counts = tags_of(session, ids), comment_counts(session, user, ids)
    lesson_ids = {c.lesson_id for c in clips}
    lessons = {
        lid: (title, consent, owner)
        for lid, title, consent, owner in session.execute(
            select(Lesson.id, Lesson.title, Lesson.consent, Lesson.owner_id).where(
                Lesson.id.in_(lesson_ids)
            )
        )
    }
    return [
        ClipPublic(
            id=c.id,
            lesson_id=c.lesson_id,
            lesson_title=lessons[c.lesson_id][0],
            consent=lessons[c.lesson_id][1],
            author=user_brief(session, c.author_id),
            title=c.title,
            note=c.note,
            start=c.start,
            end=c.end,
            duration=round(c.end - c.start, 3),
            word_start=c.word_start,
            word_end=c.word_end,
            render_status=c.render_status,
            render_error_code=c.render_error_code,
            render_error_message=c.render_error_message,
            created_at=c.created_at,
            updated_at=c.updated_at,
            tags=tags[c.id],
            comment_count=counts[c.id],
            reflection=c.author_id is not None and c.author_id == lessons[c.lesson_id][2],
        )
        for c in clips
    ]


def check_range(lesson: Lesson, start: float, end: float) -> None:
    """A clip lies inside the lesson, starts before it ends, and is 1 s to 10 min long."""
    duration = lesson.duration or 0.0
    if end <= start:
        raise InvalidError(
            f"The clip must start before it ends (start {start:.2f} s, end {end:.2f} s)."
        )
    if start < 0 or end > duration + 0.05:
        raise InvalidError(
            f"The clip ({start:.2f}-{end:.2f} s) must lie inside the lesson, which is "
            f"{duration:.2f} s long."
        )
    if end - start < MIN_CLIP_SECONDS:
        raise InvalidError(
            f"The clip is {end - start:.2f} s long; clips must be at least "
            f"{MIN_CLIP_SECONDS:.0f} s."
        )
    if end - start > MAX_CLIP_SECONDS:
        raise InvalidError(
            f"The clip is {end - start:.0f} s long; clips may be at most "
            f"{MAX_CLIP_SECONDS / 60:.0f} minutes."
        )


def require_ready_lesson(lesson: Lesson) -> None:
    if lesson.status != LessonStatus.ready or not lesson.duration:
        raise ConflictError(
            f"The lesson is {lesson.status.value}; clips can be made once it is ready."
        )


def word_range(storage: Storage, lesson: Lesson, first: int, last: int) -> tuple[float, float]:
    """The seconds from the start of word `first` to the end of word `last` (inclusive) of the
    lesson's transcript."""
    key = lesson.artefact_key("transcript.json")
    if not storage.exists(key):
        raise ConflictError("This lesson has no transcript to clip words from.")
    words = transcript_words(storage.get_bytes(key))
    if not first <= last < len(words):
        raise InvalidError(
            f"Word range {first}-{last} is outside the transcript, which "
            f"has {len(words)} words (indexes 0-{len(words) - 1})."
        )
    return words[first].start, words[last].end


def change_range(
    session: Session, storage: Storage, clip: Clip, start: float | None, end: float | None
) -> None:
    """Give the clip a new range (either end may stay); a changed range forgets the old render
    and the words it was made from. Not committed."""
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - the foreign key cascades
    start = start if start is not None else clip.start
    end = end if end is not None else clip.end
    check_range(lesson, start, end)
    if (start, end) != (clip.start, clip.end):
        forget_render(storage, clip)
        clip.start, clip.end = round(start, 3), round(end, 3)
        clip.word_start = clip.word_end = None


def check_consent_view(session: Session, user: User, clip: Clip) -> None:
    """409 for a viewer outside the coaching pair when the lesson's consent no longer allows
    the share they hold (consent narrowed after sharing)."""
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - the foreign key cascades
    coaching = is_mentor_of(session, user, lesson.owner_id)
    try:
        check_view(lesson.consent, coaching=coaching, has_audio=lesson.has_audio)
    except ConsentRefusedError as exc:
        raise ConflictError(str(exc)) from None


def rendered_key(session: Session, clip: Clip, storage: Storage, which: str) -> str | None:
    """The stored file, if it was rendered for the clip's range as its consent now requires."""
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - the foreign key cascades
    rendition = rendition_for(lesson.consent, has_video=lesson.has_video)
    wanted = clip_media_key(lesson.id, clip.id, clip.start, clip.end, rendition)
    key = clip.media_key if which == "media" else clip.captions_key
    if (
        clip.render_status == RenderStatus.ready
        and clip.media_key == wanted
        and key
        and storage.exists(key)
    ):
        return key
    return None


def request_render(session: Session, tasks: TaskQueue, clip: Clip) -> None:
    """Queue a render unless one is already on its way (and not stale)."""
    requested = clip.render_requested_at
    in_flight = clip.render_status in (RenderStatus.queued, RenderStatus.rendering)
    if in_flight and requested is not None and utcnow() - requested < RENDER_STALE:
        return
    clip.render_status = RenderStatus.queued
    clip.render_requested_at = utcnow()
    clip.render_error_code = clip.render_error_message = None
    session.commit()
    tasks.send(queue.RENDER_CLIP, clip.id)


def rendered_or_queue(
    session: Session, storage: Storage, tasks: TaskQueue, clip: Clip, which: str
) -> str:
    """The key of the rendered file, or a render is queued and UnavailableError (503 with
    Retry-After; the review page asks again) is raised at once. Never waits."""
    key = rendered_key(session, clip, storage, which)
    if key is not None:
        return key
    if clip.render_status == RenderStatus.failed:
        code, message = clip.render_error_code, clip.render_error_message
        request_render(session, tasks, clip)  # a passing fault (storage, a worker) may clear
        raise ConflictError(f"The clip could not be made [{code}]: {message}")
    if clip.render_status == RenderStatus.ready:  # files went missing or consent changed
        clip.render_status = RenderStatus.none
    request_render(session, tasks, clip)
    raise UnavailableError(
        "The clip is still being made; try again in a few seconds.",
        retry_after=RENDER_RETRY_AFTER_SECONDS,
    )


def render_for_recipient(session: Session, storage: Storage, tasks: TaskQueue, clip: Clip) -> None:
    """Queue the clip's render when it is shared, so it is ready by the time the recipient
    opens it, not on first view."""
    if rendered_key(session, clip, storage, "media") is None:
        request_render(session, tasks, clip)
