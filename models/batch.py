"""A coach's batches: a named set of recordings submitted together for transcription.

Each item is one submitted file (an upload, a server-side path or an existing lesson) and the
lesson it became, or why it did not become one. `register_visibility()`, called by the app at
start-up (api.app), adds the access rule "a coach sees the lessons in batches they submitted"
to models.access.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.access import add_lesson_rule
from models.account import Role, User, new_id
from models.db import Base, utcnow
from models.lesson import Lesson


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[BatchItem]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="BatchItem.position"
    )


class BatchItem(Base):
    __tablename__ = "batch_items"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    source_name: Mapped[str] = mapped_column(String(1024), default="")
    """The file's own name as submitted (upload file name, path's last part, lesson's source)."""
    lesson_id: Mapped[str | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL"), index=True
    )
    reused: Mapped[bool] = mapped_column(default=False)
    """The content (by SHA-256) had already been processed: the existing lesson was reused."""
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)

    batch: Mapped[Batch] = relationship(back_populates="items")


def _batched_by(user: User) -> ColumnElement[bool] | None:
    if user.role not in (Role.coach, Role.admin):
        return None
    batched = (
        select(BatchItem.lesson_id)
        .join(Batch, Batch.id == BatchItem.batch_id)
        .where(Batch.owner_id == user.id, BatchItem.lesson_id.is_not(None))
    )
    return Lesson.id.in_(batched)


def register_visibility() -> None:
    """Let a coach see the lessons of the batches they submitted. Called by the API at start-up
    (`api.app.create_app`), so the rule is in force because the app says so, not because some
    module happened to import this one."""
    add_lesson_rule(_batched_by)
