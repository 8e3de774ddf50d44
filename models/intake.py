"""A recording becomes a lesson: the one place that makes the lesson row and its source object.

The API (uploads and coach batches), `clipcoach batch` and the demo seed all add lessons this
way, so the naming rules live once: the title falls back to the file name's stem, the source
object is `lessons/{id}/source{ext}`, and the displayed file name is cleaned and bounded.

The object is stored before the row is added, so no database transaction is held open while a
large file is copied (SQLite has one writer at a time). The caller commits; if that fails it
removes the object again with `discard_source`.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.orm import Session

from models.account import new_id
from models.consent import Consent
from models.lesson import (
    Lesson,
    lesson_prefix,
    school_default_consent,
    school_default_research_use,
)
from models.storage import Storage

MAX_EXTENSION = 12


def display_name(filename: str) -> str:
    """The uploader's file name as shown back to them: no NUL bytes, at most 1024 characters."""
    return filename.replace("\x00", "")[:1024]


def default_title(filename: str) -> str:
    """'Y8 fractions.mp4' -> 'Y8 fractions' (from a Windows or POSIX path alike)."""
    return PurePosixPath(filename.replace("\\", "/")).stem


def add_lesson_from_file(
    session: Session,
    storage: Storage,
    path: Path,
    *,
    filename: str,
    extension: str,
    sha256: str,
    title: str = "",
    owner_id: str | None = None,
    content_type: str | None = None,
    transcribe: bool = True,
    options: dict[str, Any] | None = None,
    lesson_id: str | None = None,
    consent: Consent | None = None,
    research_use: bool | None = None,
) -> Lesson:
    """Store `path` as a new lesson's source and add the lesson to `session` (not committed).

    `path` stays the caller's. If storing fails nothing is added and the error is raised.
    """
    shown = display_name(filename)
    lesson = Lesson(
        id=lesson_id or new_id(),
        owner_id=owner_id,
        title=(title.strip() or default_title(shown))[:300],
        source_filename=shown,
        source_key="",
        source_size=path.stat().st_size,
        source_sha256=sha256,
        transcribe=transcribe,
        options=dict(options or {}),
    )
    lesson.consent = consent or school_default_consent()
    lesson.research_use = school_default_research_use() if research_use is None else research_use
    lesson.source_key = lesson.artefact_key("source" + extension.lower()[:MAX_EXTENSION])
    try:
        storage.put_file(lesson.source_key, path, content_type)
    except BaseException:
        discard_source(storage, lesson.id)
        raise
    session.add(lesson)
    return lesson


def discard_source(storage: Storage, lesson_id: str) -> None:
    """Remove everything stored for a lesson that was never committed."""
    storage.delete_prefix(lesson_prefix(lesson_id))
