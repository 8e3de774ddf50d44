"""Corrections and reverts: a person's fix of the transcript becomes its newest version.

The current transcript is what processing writes (`lessons/<id>/transcript.<fmt>`), and what
captions, clip captions, the interactive transcript, segments, exports and search read. A
correction or a revert first keeps the current transcript as a numbered version
(`models.transcription.archive_current`), then `publish` writes the new one in every format and
brings along everything made from it: the candidate clips (`segments.json`, made again from the
stored scene cuts), the talk analytics (`analytics.json`), the clips already rendered (those
meeting a changed word render again, the others get new captions), and the search index. Who
made a version and how is stamped into its JSON (`options.version`), so it travels with the
files when the version is kept in turn.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import CodedHTTPException
from models import blanks, search
from models.account import User
from models.coaching import Clip, RenderStatus, forget_render
from models.db import utcnow
from models.lesson import Lesson, LessonStatus
from models.storage import Storage
from models.transcription import (
    TRANSCRIPT_FORMATS,
    TranscriptionSettings,
    TranscriptVersion,
    archive_current,
    current_number,
    transcript_key,
)
from pipeline.captions import clip_transcript, render, to_vtt
from pipeline.corrections import CorrectionError, changed_spans, correct_transcript, overlaps
from pipeline.redact import NAME_PAD_SECONDS
from pipeline.transcript import Transcript

VERSION_KEY = "version"
"""Where transcript.json's `options` say how the version was made (absent: by the model)."""


def refuse_while_blanking(session: Session, lesson: Lesson, what: str) -> None:
    """409 `blank_in_progress` while a blanked moment of the lesson waits for or is being
    written into its stored files: the blank worker rewrites every transcript from the copies it
    fetched, so a version saved meanwhile would be overwritten, or bring back removed words."""
    if blanks.in_progress(session, lesson.id):
        raise CodedHTTPException(
            409,
            "A blanked moment is still being written into the stored recording; "
            f"{what} when it is done.",
            "blank_in_progress",
        )


def _require_editable(session: Session, lesson: Lesson) -> None:
    session.refresh(lesson, with_for_update=True)  # one version at a time per lesson
    if lesson.status in (LessonStatus.queued, LessonStatus.processing):
        raise HTTPException(
            409,
            f"The lesson is still {lesson.status.value}; correct its transcript when it has "
            "finished.",
        )
    refuse_while_blanking(session, lesson, "change the transcript")


def _current_transcript(storage: Storage, lesson: Lesson) -> Transcript:
    key = transcript_key(lesson, "json")
    if not storage.exists(key):
        raise HTTPException(409, "This lesson has no transcript to correct.")
    return Transcript.from_dict(json.loads(storage.get_bytes(key)))


def _stamp(transcript: Transcript, user: User, kind: str, **more: Any) -> Transcript:
    made = {"kind": kind, "author_id": user.id, "made_at": utcnow().isoformat(), **more}
    return replace(transcript, options={**transcript.options, VERSION_KEY: made})


def made_how(doc: Mapping[str, Any]) -> dict[str, Any]:
    """How a transcript.json was made: {"kind", "author_id", "made_at", "reverted_from"}."""
    made = (doc.get("options") or {}).get(VERSION_KEY) or {}
    return {
        "kind": str(made.get("kind") or "transcription"),
        "author_id": made.get("author_id"),
        "made_at": made.get("made_at"),
        "reverted_from": made.get("reverted_from"),
    }


def publish(
    session: Session, storage: Storage, lesson: Lesson, transcript: Transcript, before: Transcript
) -> None:
    """Make `transcript` the lesson's current one (it was `before`), and everything read from it
    follow. A rendered clip whose range meets a changed word is thrown away and renders again
    on its next request (its sound silences the class list's names by the words' times: a
    correction that names a pupil must silence them in the shared copy too); the others keep
    their files and get the new words' captions."""
    for fmt in TRANSCRIPT_FORMATS:
        storage.put_bytes(transcript_key(lesson, fmt), render(transcript, fmt).encode("utf-8"))
    _segment_again(storage, lesson, transcript)
    _analyse_again(storage, lesson, transcript)
    changed = changed_spans(before, transcript)
    for clip in session.scalars(select(Clip).where(Clip.lesson_id == lesson.id)):
        if clip.render_status != RenderStatus.none and overlaps(
            changed, clip.start, clip.end, NAME_PAD_SECONDS
        ):
            forget_render(storage, clip)
        elif clip.captions_key and storage.exists(clip.captions_key):
            vtt = to_vtt(clip_transcript(transcript, clip.start, clip.end))
            storage.put_bytes(clip.captions_key, vtt.encode("utf-8"))
    search.index_transcript(session, lesson.id, transcript.to_dict())


def _segment_again(storage: Storage, lesson: Lesson, transcript: Transcript) -> None:
    """The candidate clips, made again from the new words and the stored scene cuts."""
    from pipeline.lesson import SCENES, SEGMENTS
    from pipeline.segment import segment

    key = lesson.artefact_key(SEGMENTS)
    if not storage.exists(key):
        return  # never segmented (processing stopped before): nothing follows the transcript
    scenes_key = lesson.artefact_key(SCENES)
    cuts: list[float] = []
    if storage.exists(scenes_key):
        cuts = [float(c) for c in json.loads(storage.get_bytes(scenes_key)).get("cuts", ())]
    duration = lesson.duration or transcript.duration
    clips = segment(transcript, cuts, duration)
    storage.put_bytes(key, json.dumps([c.to_dict() for c in clips], indent=1).encode("utf-8"))


def _analyse_again(storage: Storage, lesson: Lesson, transcript: Transcript) -> None:
    """The talk analytics, made again from the new words (the speech regions and speaker
    turns stay: the audio did not change)."""
    from pipeline.analytics import of_lesson
    from pipeline.lesson import ANALYTICS, SEGMENTS, SPEAKERS, SPEECH_REGIONS

    key = lesson.artefact_key(ANALYTICS)
    if not storage.exists(key) and not storage.exists(lesson.artefact_key(SEGMENTS)):
        return  # processing never got as far as the analytics

    def stored(name: str) -> Any:
        at = lesson.artefact_key(name)
        return json.loads(storage.get_bytes(at)) if storage.exists(at) else None

    result = of_lesson(
        transcript, lesson.duration or transcript.duration, stored(SPEECH_REGIONS), stored(SPEAKERS)
    )
    storage.put_bytes(key, json.dumps(result.to_dict(), indent=1).encode("utf-8"))


def correct(
    session: Session,
    storage: Storage,
    lesson: Lesson,
    user: User,
    made_with: TranscriptionSettings,
    version: int,
    edits: Mapping[int, str],
) -> int:
    """Save `edits` (sentence index -> new text) of version `version` as a new version; return
    its number. The caller records the audit event and commits."""
    _require_editable(session, lesson)
    transcript = _current_transcript(storage, lesson)
    number = current_number(session, lesson.id)
    if version != number:
        raise HTTPException(
            409,
            f"Version {version} is not the current transcript any more (version {number} is): "
            "someone saved a change meanwhile. Reload the transcript and correct it again.",
        )
    try:
        fixed = correct_transcript(transcript, edits)
    except CorrectionError as exc:
        raise HTTPException(422, str(exc)) from None
    archive_current(session, storage, lesson, made_with)
    fixed = _stamp(fixed, user, "correction", corrected=sorted(edits))
    publish(session, storage, lesson, fixed, transcript)
    return number + 1


def revert(
    session: Session,
    storage: Storage,
    lesson: Lesson,
    user: User,
    made_with: TranscriptionSettings,
    number: int,
) -> int:
    """Make a copy of kept version `number` the newest version; return the new number."""
    _require_editable(session, lesson)
    current = current_number(session, lesson.id)
    if number == current:
        raise HTTPException(409, f"Version {number} is already the current transcript.")
    kept = session.scalar(
        select(TranscriptVersion).where(
            TranscriptVersion.lesson_id == lesson.id, TranscriptVersion.number == number
        )
    )
    key = transcript_key(lesson, "json", kept) if kept is not None else ""
    if kept is None or not storage.exists(key):
        raise HTTPException(404, f"This lesson has no transcript version {number}.")
    earlier = Transcript.from_dict(json.loads(storage.get_bytes(key)))
    current_words = _current_transcript(storage, lesson)  # there is a current one to keep
    archive_current(session, storage, lesson, made_with)
    earlier = _stamp(earlier, user, "revert", reverted_from=number)
    publish(session, storage, lesson, earlier, current_words)
    return current + 1
