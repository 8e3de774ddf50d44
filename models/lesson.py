"""Lessons and the state of each processing stage.

The lesson row is the truth a client reads: status, current stage, progress 0-100, and on failure
a stable error code and a message for a teacher. Each stage has its own row so two workers running
parallel branches (transcription beside thumbnails) never overwrite each other's progress.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.account import new_id
from models.consent import Consent
from models.db import Base, utcnow


class LessonStatus(enum.StrEnum):
    queued = "queued"
    processing = "processing"
    ready = "ready"
    failed = "failed"


class StageStatus(enum.StrEnum):
    pending = "pending"
    queued = "queued"
    running = "running"
    done = "done"
    skipped = "skipped"
    failed = "failed"


LESSONS = "lessons"
"""The top folder of every lesson's files in object storage."""


def lesson_prefix(lesson_id: str) -> str:
    """The folder holding everything stored for a lesson; `delete_prefix` of it forgets them all."""
    return f"{LESSONS}/{lesson_id}"


def lesson_key(lesson_id: str, *parts: str) -> str:
    """Where a file made from a lesson lives: the one rule for lesson keys, so the API, the
    workers and the batch runner find the same object (`lesson_key(id, "clips", "c.mp4")`)."""
    return "/".join((lesson_prefix(lesson_id), *parts))


def school_default_consent() -> Consent:
    """A new lesson's consent when its uploader does not choose: the school's setting."""
    from models.settings import get_settings

    return get_settings().consent_default


def school_default_research_use() -> bool:
    """A new lesson's research use when its uploader does not choose: the school's setting."""
    from models.settings import get_settings

    return get_settings().research_use_default


class Lesson(Base):
    __tablename__ = "lessons"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300), default="")
    source_filename: Mapped[str] = mapped_column(String(1024), default="")
    source_key: Mapped[str] = mapped_column(String(1024))
    source_size: Mapped[int] = mapped_column(default=0)
    source_sha256: Mapped[str] = mapped_column(String(64), default="", index=True)

    status: Mapped[LessonStatus] = mapped_column(
        Enum(LessonStatus, native_enum=False, length=16), default=LessonStatus.queued, index=True
    )
    stage: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[int] = mapped_column(default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[str]] = mapped_column(default=list)

    media_key: Mapped[str | None] = mapped_column(String(1024))
    duration: Mapped[float | None]
    has_video: Mapped[bool | None]
    has_audio: Mapped[bool | None]
    probe: Mapped[dict[str, Any] | None]
    transcribe: Mapped[bool] = mapped_column(default=True)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consent: Mapped[Consent] = mapped_column(
        Enum(Consent, native_enum=False, length=16, validate_strings=True),
        default=school_default_consent,
        server_default=Consent.all_visible.value,
    )
    research_use: Mapped[bool] = mapped_column(default=school_default_research_use)
    """Whether the pupils' consent covers research use: only then may the lesson leave in a
    research export (api/routes/exports.py). Beside `consent`, set and audited the same way."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    ready_at: Mapped[datetime | None]
    keep_until: Mapped[datetime | None]
    """Kept past the school's retention date until then (models.retention; owner or admin)."""
    transcript_keep_until: Mapped[datetime | None]
    """Transcripts kept past the school's transcript date until then (models.retention; admin)."""
    transcripts_deleted_at: Mapped[datetime | None]
    """When retention deleted the lesson's transcripts (models.retention.delete_transcripts)."""

    stages: Mapped[list[LessonStage]] = relationship(
        back_populates="lesson", cascade="all, delete-orphan", order_by="LessonStage.id"
    )

    @property
    def deletes_on(self) -> datetime | None:
        """When retention deletes this lesson (None while the school keeps lessons)."""
        from models.retention import deletes_on, school_policy

        return deletes_on(self.created_at, self.keep_until, school_policy())

    @property
    def deletion_soon(self) -> bool:
        """Within the warning period before `deletes_on`: its owner and mentor are told."""
        from models.retention import in_warning, school_policy

        return in_warning(self.deletes_on, school_policy(), utcnow())

    @property
    def transcript_deletes_on(self) -> datetime | None:
        """When retention deletes this lesson's transcripts (None while they are kept with it)."""
        from models.retention import school_policy, transcript_deletes_on

        return transcript_deletes_on(
            self.created_at, self.transcript_keep_until, self.deletes_on, school_policy()
        )

    def artefact_key(self, name: str) -> str:
        """Where a file made from this lesson lives in object storage."""
        return lesson_key(self.id, name)


class LessonStage(Base):
    __tablename__ = "lesson_stages"
    __table_args__ = (UniqueConstraint("lesson_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    status: Mapped[StageStatus] = mapped_column(
        Enum(StageStatus, native_enum=False, length=16), default=StageStatus.pending
    )
    progress: Mapped[float] = mapped_column(default=0.0)
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]

    lesson: Mapped[Lesson] = relationship(back_populates="stages")
