"""Transcript versions: earlier transcripts of a lesson kept when it is transcribed again.

The current transcript lives where processing writes it (`lessons/<id>/transcript.<fmt>`) and is
what captions, clips and search read. Before a lesson is transcribed again with other settings,
or a person corrects it or goes back to an earlier version (api.corrections), those files are
copied to `lessons/<id>/transcripts/v<N>/` beside an `options.json`, and a row
here records the version's number and the settings it was made with. The current transcript is
always the number after the last kept one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models import search
from models.account import User
from models.db import Base, utcnow
from models.lesson import Lesson, LessonStage
from models.storage import Storage
from models.transcripts import transcript_words

TRANSCRIPT_FORMATS = ("json", "vtt", "srt", "txt")


class TranscriptVersion(Base):
    __tablename__ = "transcript_versions"
    __table_args__ = (UniqueConstraint("lesson_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    created_at: Mapped[datetime | None]
    """When the transcript was made (its transcribe stage finished)."""
    archived_at: Mapped[datetime] = mapped_column(default=utcnow)
    model: Mapped[str] = mapped_column(String(300), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    vocabulary: Mapped[list[str]] = mapped_column(default=list)
    words: Mapped[int] = mapped_column(default=0)
    formats: Mapped[list[str]] = mapped_column(default=list)
    kind: Mapped[str] = mapped_column(
        String(16), default="transcription", server_default="transcription"
    )
    """How the version was made: "transcription" (the model), "correction" or "revert"."""
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """Who corrected or reverted it (None for the model's own transcript)."""


@dataclass(frozen=True)
class TranscriptionSettings:
    """The settings a transcript is made with: the lesson's overrides over the deployment's."""

    model: str
    language: str
    vocabulary: list[str]

    @classmethod
    def of(
        cls, options: dict[str, Any], *, model: str, language: str, vocabulary: list[str]
    ) -> TranscriptionSettings:
        return cls(
            model=str(options.get("model") or model or "default"),
            language=str(options.get("language") or language),
            vocabulary=list(options.get("vocabulary") or vocabulary),
        )


def version_prefix(lesson: Lesson, number: int) -> str:
    return lesson.artefact_key(f"transcripts/v{number}")


def transcript_key(lesson: Lesson, fmt: str, version: TranscriptVersion | None = None) -> str:
    if version is None:
        return lesson.artefact_key(f"transcript.{fmt}")
    return f"{version_prefix(lesson, version.number)}/transcript.{fmt}"


def kept_versions(session: Session, lesson_id: str) -> list[TranscriptVersion]:
    return list(
        session.scalars(
            select(TranscriptVersion)
            .where(TranscriptVersion.lesson_id == lesson_id)
            .order_by(TranscriptVersion.number)
        )
    )


def current_number(session: Session, lesson_id: str) -> int:
    last = session.scalar(
        select(func.max(TranscriptVersion.number)).where(TranscriptVersion.lesson_id == lesson_id)
    )
    return (last or 0) + 1


def transcribed_at(session: Session, lesson_id: str) -> datetime | None:
    return session.scalar(
        select(LessonStage.finished_at).where(
            LessonStage.lesson_id == lesson_id, LessonStage.name == "transcribe"
        )
    )


def archive_current(
    session: Session, storage: Storage, lesson: Lesson, made_with: TranscriptionSettings
) -> TranscriptVersion | None:
    """Copy the current transcript files to the next version folder and record the version.

    Returns None when the lesson has no current transcript. The row is added to `session`; the
    caller commits (and removes the copied folder if it does not).
    """
    present = [f for f in TRANSCRIPT_FORMATS if storage.exists(transcript_key(lesson, f))]
    if "json" not in present:
        return None
    number = current_number(session, lesson.id)
    prefix = version_prefix(lesson, number)
    data = storage.get_bytes(transcript_key(lesson, "json"))
    made = (json.loads(data).get("options") or {}).get("version") or {}
    author = made.get("author_id")
    for fmt in present:
        body = data if fmt == "json" else storage.get_bytes(transcript_key(lesson, fmt))
        storage.put_bytes(f"{prefix}/transcript.{fmt}", body)
    version = TranscriptVersion(
        lesson_id=lesson.id,
        number=number,
        created_at=transcribed_at(session, lesson.id) or lesson.ready_at,
        model=made_with.model,
        language=made_with.language,
        vocabulary=made_with.vocabulary,
        words=len(transcript_words(data)),
        formats=present,
        kind=str(made.get("kind") or "transcription"),
        author_id=author if author and session.get(User, author) is not None else None,
    )
    options = {
        "number": number,
        "model": made_with.model,
        "language": made_with.language,
        "vocabulary": made_with.vocabulary,
        "created_at": version.created_at.isoformat() if version.created_at else None,
    }
    storage.put_bytes(f"{prefix}/options.json", json.dumps(options, indent=2).encode())
    session.add(version)
    return version


MADE_FROM_TRANSCRIPT = ("analytics.json", "speech.json", "speakers.json")
"""Files processing makes beside the transcript (pipeline.lesson's ANALYTICS, SPEECH_REGIONS and
SPEAKERS; models may not import pipeline): the analytics quote its words, so they go with it."""


def delete_all(session: Session, storage: Storage, lesson: Lesson) -> None:
    """Remove every transcript of a lesson, current and kept, and the audio made for them."""
    for fmt in TRANSCRIPT_FORMATS:
        storage.delete(transcript_key(lesson, fmt))
    for name in MADE_FROM_TRANSCRIPT:
        storage.delete(lesson.artefact_key(name))
    storage.delete(lesson.artefact_key("audio.wav"))
    storage.delete_prefix(lesson.artefact_key("transcripts"))
    for version in kept_versions(session, lesson.id):
        session.delete(version)
    search.forget(session, lesson.id)
