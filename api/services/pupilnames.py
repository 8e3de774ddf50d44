"""Class lists and who reads the pupils' names: the one place routes ask which names to hide
from a reader (`hidden_names`), and where a list's changes reach the rendered clips."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.errors import ConflictError, InvalidError
from models import search
from models.access import NotAllowedError, NotVisibleError, require_uploader, sees_pupil_names
from models.account import Role, User
from models.coaching import Clip, forget_render
from models.lesson import Lesson
from models.pupilnames import MAX_NAMES_PER_LIST, PupilName, fold_name, lesson_names, list_of
from models.storage import Storage
from pipeline.analytics import TalkAnalytics
from pipeline.captions import render
from pipeline.pupilnames import NameList, name_list, redact_text
from pipeline.redact import shown_transcript
from pipeline.transcript import Transcript


def hidden_names(session: Session, user: User, lesson: Lesson) -> NameList | None:
    """The names to replace by [pupil] in what `user` reads of `lesson`; None when they read
    the names (`models.access.sees_pupil_names`) or no list names anyone."""
    if sees_pupil_names(session, user, lesson):
        return None
    return lesson_names_list(session, lesson)


def lesson_names_list(session: Session, lesson: Lesson) -> NameList | None:
    """The lesson's class-list names ready for matching; None when there are none."""
    names = name_list(lesson_names(session, lesson))
    return names or None


def list_owner(user: User, scope: str) -> str | None:
    """Whose list `user` keeps under `scope`: their own, or (an admin) the school's."""
    if scope == "school":
        if user.role != Role.admin:
            raise NotAllowedError("Only an administrator keeps the school's class list.")
        return None
    require_uploader(user)
    return user.id


def visible_name(session: Session, user: User, name_id: str) -> PupilName:
    """A name on a list `user` keeps; any other is not found."""
    row = session.get(PupilName, name_id)
    keeps = row is not None and (
        row.owner_id == user.id or (row.owner_id is None and user.role == Role.admin)
    )
    if row is None or not keeps:
        raise NotVisibleError("pupil name")
    return row


def checked_name(session: Session, owner_id: str | None, name: str, *, other_than: str = "") -> str:
    """The name as it is stored (spaces tidied), refused when it has no letter, holds more than
    three words, is already on the list or the list is full."""
    tidy = " ".join(name.split())
    if not any(c.isalpha() for c in tidy):
        raise InvalidError("A pupil's name needs at least one letter.", code="pupil_name_invalid")
    if len(tidy.split()) > 3:
        raise InvalidError(
            "Give a first name or nickname (at most three words), not a sentence.",
            code="pupil_name_invalid",
        )
    rows = list_of(session, owner_id)
    if any(r.folded == fold_name(tidy) and r.id != other_than for r in rows):
        raise ConflictError(f"{tidy} is already on this list.", code="pupil_name_exists")
    if not other_than and len(rows) >= MAX_NAMES_PER_LIST:
        raise ConflictError(
            f"A class list holds at most {MAX_NAMES_PER_LIST} names.", code="pupil_names_full"
        )
    return tidy


def forget_renders_for(session: Session, storage: Storage, owner_id: str | None) -> int:
    """Forget the rendered clips of the lessons a list applies to (the owner's lessons, or all
    for the school's list), so the next render silences the names as the list now has them.
    Returns how many clips were forgotten. Not committed."""
    stmt = select(Clip).join(Lesson, Lesson.id == Clip.lesson_id)
    if owner_id is not None:
        stmt = stmt.where(Lesson.owner_id == owner_id)
    count = 0
    for clip in session.scalars(stmt.where(Clip.media_key.is_not(None))):
        forget_render(storage, clip)
        count += 1
    return count


def redacted_transcript_file(transcript_json: bytes, fmt: str, names: NameList) -> bytes:
    """A stored transcript (its JSON) in format `fmt` with the names replaced by [pupil]."""
    transcript = Transcript.from_dict(json.loads(transcript_json))
    return render(shown_transcript(transcript, (), names), fmt).encode("utf-8")


def shown_hits(session: Session, user: User, hits: Sequence[search.Hit]) -> list[search.Hit]:
    """Search hits as `user` may read them: in lessons whose names are hidden from them, the
    snippet's names replaced by [pupil], and a hit whose matched words are a name left out (a
    search for a pupil must not say where they are mentioned)."""
    lessons = {
        lesson.id: lesson
        for lesson in session.scalars(
            select(Lesson).where(Lesson.id.in_({h.lesson_id for h in hits}))
        )
    }
    names_of: dict[str, NameList | None] = {}
    shown: list[search.Hit] = []
    for hit in hits:
        if hit.lesson_id not in names_of:
            lesson = lessons.get(hit.lesson_id)
            names_of[hit.lesson_id] = (
                None if lesson is None else hidden_names(session, user, lesson)
            )
        names = names_of[hit.lesson_id]
        if names is None:
            shown.append(hit)
            continue
        redacted = _redacted_hit(hit, names)
        if redacted is not None:
            shown.append(redacted)
    return shown


def _redacted_hit(hit: search.Hit, names: NameList) -> search.Hit | None:
    """The hit with its snippet's names replaced, its highlights moved to match; None when a
    highlighted (matched) word is a name."""
    pieces: list[str] = []
    highlights: list[tuple[int, int]] = []
    at, length, sentence_start = 0, 0, True
    bounds = [*hit.highlights, (len(hit.snippet), len(hit.snippet))]
    for start, end in bounds:
        plain, sentence_start = redact_text(
            hit.snippet[at:start], names, sentence_start=sentence_start
        )
        pieces.append(plain)
        length += len(plain)
        if end > start:
            marked, sentence_start = redact_text(
                hit.snippet[start:end], names, sentence_start=sentence_start
            )
            if marked != hit.snippet[start:end]:
                return None
            pieces.append(marked)
            highlights.append((length, length + len(marked)))
            length += len(marked)
        at = end
    return replace(hit, snippet="".join(pieces), highlights=tuple(highlights))


def shown_segments(items: list[Any], names: NameList | None) -> list[Any]:
    """Candidate clips (segments.json) with the names in their titles and excerpts replaced."""
    if not names:
        return items
    return [
        {
            **item,
            **{
                k: redact_text(item[k], names)[0]
                for k in ("title", "text")
                if isinstance(item.get(k), str)
            },
        }
        for item in items
    ]


def shown_analytics(analytics: TalkAnalytics, names: NameList | None) -> TalkAnalytics:
    """Talk analytics with the names in its questions' words replaced by [pupil]."""
    if not names:
        return analytics
    questions = tuple(replace(q, text=redact_text(q.text, names)[0]) for q in analytics.questions)
    return replace(analytics, questions=questions)
