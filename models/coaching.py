"""Coaching records: clips of a lesson, their strand tags, timestamped comments and shares.

A clip is virtual (lesson, start, end) until its media is asked for; then a worker renders the
MP4 and its shifted captions and records the outcome on the clip row (`render_*` columns), the
same way a lesson row records its processing. Rendered files live under the lesson's prefix in
storage, so deleting a lesson removes its clips' files too.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.account import new_id
from models.consent import Rendition
from models.db import Base, utcnow
from models.lesson import lesson_key
from models.storage import Storage

MIN_CLIP_SECONDS = 1.0
MAX_CLIP_SECONDS = 600.0


class RenderStatus(enum.StrEnum):
    none = "none"
    queued = "queued"
    rendering = "rendering"
    ready = "ready"
    failed = "failed"


class CommentKind(enum.StrEnum):
    strength = "strength"
    question = "question"
    next_step = "next_step"
    note = "note"
    reflection = "reflection"  # the ECT's own thoughts on a clip, not feedback on it


class Clip(Base):
    __tablename__ = "clips"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    start: Mapped[float]
    end: Mapped[float]
    word_start: Mapped[int | None]
    word_end: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    render_status: Mapped[RenderStatus] = mapped_column(
        Enum(RenderStatus, native_enum=False, length=16), default=RenderStatus.none
    )
    render_requested_at: Mapped[datetime | None]
    rendered_at: Mapped[datetime | None]
    render_error_code: Mapped[str | None] = mapped_column(String(64))
    render_error_message: Mapped[str | None] = mapped_column(Text)
    media_key: Mapped[str | None] = mapped_column(String(1024))
    captions_key: Mapped[str | None] = mapped_column(String(1024))

    @property
    def duration(self) -> float:
        return self.end - self.start


def clip_media_key(
    lesson_id: str, clip_id: str, start: float, end: float, rendition: Rendition = Rendition.plain
) -> str:
    """The rendered file's key; the range and the rendition are in the name, so an edited clip
    or a changed consent state never reuses a file."""
    stem = lesson_key(lesson_id, "clips", f"{clip_id}-{round(start * 1000)}-{round(end * 1000)}")
    return f"{stem}.mp4" if rendition == Rendition.plain else f"{stem}-{rendition.value}.mp4"


def clip_captions_key(media_key: str) -> str:
    return media_key.removesuffix(".mp4") + ".vtt"


def forget_render(storage: Storage, clip: Clip) -> None:
    """Delete every file rendered for `clip` (any range or rendition, video and captions) and
    mark it unrendered: the next request renders it again as things now are."""
    folder = lesson_key(clip.lesson_id, "clips")
    for stored in storage.list_keys(folder):
        if stored.removeprefix(folder + "/").startswith(f"{clip.id}-"):
            storage.delete(stored)
    for named in (clip.media_key, clip.captions_key):
        if named:
            storage.delete(named)
    clip.media_key = clip.captions_key = None
    clip.render_status = RenderStatus.none
    clip.render_error_code = clip.render_error_message = None


class ClipTag(Base):
    """Evidence that a clip shows practice from a framework strand; never a score."""

    __tablename__ = "clip_tags"

    clip_id: Mapped[str] = mapped_column(
        ForeignKey("clips.id", ondelete="CASCADE"), primary_key=True
    )
    strand_id: Mapped[str] = mapped_column(
        ForeignKey("strands.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    tagged_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    """A timestamped comment on a clip (`clip_id`, `at` into the clip) or on a whole lesson
    (`lesson_id`, `at` into the lesson); exactly one of the two is set. Its author may edit or
    delete it for a while (`models.settings.Settings.comment_edit_window_hours`); a deleted
    comment with replies stays as "comment removed" (`deleted_at`, body emptied)."""

    __tablename__ = "comments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    clip_id: Mapped[str | None] = mapped_column(
        ForeignKey("clips.id", ondelete="CASCADE"), index=True
    )
    lesson_id: Mapped[str | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[float] = mapped_column(default=0.0)
    kind: Mapped[CommentKind] = mapped_column(
        Enum(CommentKind, native_enum=False, length=16), default=CommentKind.note
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


def editable_until(comment: Comment, window: timedelta) -> datetime:
    """Until when the author may still edit or delete the comment."""
    return comment.created_at + window


class Share(Base):
    """A clip made visible to one ECT, until a date or until revoked (rows are never deleted);
    sharing a collection makes one per clip."""

    __tablename__ = "shares"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    clip_id: Mapped[str] = mapped_column(ForeignKey("clips.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    shared_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    until: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    collection_id: Mapped[str | None] = mapped_column(
        ForeignKey("collections.id", ondelete="SET NULL"), index=True
    )
    """The collection whose sharing made this share (models.collections), if any."""
