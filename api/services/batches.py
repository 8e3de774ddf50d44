"""A coach's batches after submitting: the server folders they may choose from, and processing
the failed items again.

Submitting a batch lives in `api.routes.batches`; the rules here are the ones the coach's page
needs on top: what `batch_allowed_dirs` holds (so a coach picks a folder instead of typing a
server path), and a retry that touches only items whose lesson failed. Also what the batch
routes share with the research exports: the caller's batch and the lessons of it they still
see, file names inside a zip, and a zip streamed as it is made.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.errors import ConflictError
from api.services.lessons import requeue_failed
from models import audit
from models.access import NotAllowedError, NotVisibleError, lesson_filter, require_lesson_delete
from models.account import User
from models.batch import Batch, BatchItem
from models.lesson import Lesson, LessonStatus
from models.queue import TaskQueue
from models.settings import Settings

MAX_FILES_LISTED = 500
"""Per folder: a folder of thousands of files is still submitted whole, only its listing stops."""


@dataclass(frozen=True)
class FolderFile:
    name: str
    size: int


@dataclass(frozen=True)
class Folder:
    """A folder a batch may read: an allowed one or a folder directly inside it."""

    path: str
    files: tuple[FolderFile, ...]
    file_count: int
    """All the files a batch of this folder would take, also those past the listing's cap."""


def _files(folder: Path) -> list[Path]:
    """The files a batch of `folder` takes (as `api.routes.batches` does: not hidden, not in
    subfolders), those whose links lead outside the allowed folders left to the submit check."""
    return sorted(
        child for child in folder.iterdir() if not child.name.startswith(".") and child.is_file()
    )


def _folder(path: Path) -> Folder:
    files = _files(path)
    listed = tuple(FolderFile(f.name, f.stat().st_size) for f in files[:MAX_FILES_LISTED])
    return Folder(str(path), listed, len(files))


def allowed_folders(settings: Settings) -> list[Folder]:
    """Each allowed folder that exists, then the folders directly inside it, with their files.
    A subfolder is listed only when it resolves inside the allowed folder (a link out is not)."""
    folders: list[Folder] = []
    for configured in settings.batch_allowed_dirs:
        root = Path(configured).expanduser().resolve()
        if not root.is_dir():
            continue
        folders.append(_folder(root))
        for child in sorted(root.iterdir()):
            if child.name.startswith(".") or not child.is_dir():
                continue
            if child.resolve().is_relative_to(root):
                folders.append(_folder(child))
    return folders


def _retryable(user: User, lesson: Lesson) -> bool:
    if lesson.status != LessonStatus.failed:
        return False
    try:
        require_lesson_delete(user, lesson)  # who may retry a lesson: its owner or an admin
    except NotAllowedError:
        return False
    return True


def retry_failed(
    session: Session,
    tasks: TaskQueue,
    user: User,
    batch: Batch,
    items: list[tuple[BatchItem, Lesson | None]],
    client: str,
) -> list[str]:
    """Queue again every failed lesson of `batch` (of `items`, each with its lesson as the user
    sees it); the ids queued. Items that never became a lesson (not a recording, too large) have
    nothing to process again and stay as they are. ConflictError when nothing was queued, so a
    second click finds the first one's work done and changes nothing."""
    retried = [
        lesson.id
        for _, lesson in items
        if lesson is not None
        and _retryable(user, lesson)
        and requeue_failed(session, tasks, user, lesson, client)
    ]
    if not retried:
        unfixable = sum(lesson is None for _, lesson in items)
        raise ConflictError(
            "Nothing in this batch can be processed again: "
            + (
                f"{unfixable} file{'s' if unfixable != 1 else ''} never became a lesson (not a "
                "recording, too large, or deleted); submit a good copy in a new batch."
                if unfixable
                else "no item has failed."
            ),
            code="nothing_to_retry",
        )
    audit.record(session, user.id, "batch.retry", "batch", batch.id, client=client, lessons=retried)
    session.commit()
    return retried


def own_batch(session: Session, user: User, batch_id: str) -> Batch:
    """The caller's own batch; anyone else's is as good as missing (404)."""
    batch = session.get(Batch, batch_id)
    if batch is None or batch.owner_id != user.id:
        raise NotVisibleError("batch")
    return batch


def batch_items(
    session: Session, user: User, batch: Batch
) -> list[tuple[BatchItem, Lesson | None]]:
    """Each item with its lesson, if the lesson still exists and the user still sees it."""
    ids = [i.lesson_id for i in batch.items if i.lesson_id]
    lessons = {
        lesson.id: lesson
        for lesson in session.scalars(select(Lesson).where(Lesson.id.in_(ids), lesson_filter(user)))
    }
    return [(item, lessons.get(item.lesson_id or "")) for item in batch.items]


SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_stem(source_name: str, fallback: str) -> str:
    """A file name for the zip from a submitted name: its last part, without the extension,
    only plain characters, never empty, `.` or `..`, never hidden."""
    last = PurePosixPath(source_name.replace("\\", "/")).name
    stem = PurePosixPath(last).stem if "." in last.lstrip(".") else last
    stem = SAFE_NAME.sub("_", stem).strip(" .")[:120]
    return stem or fallback


class ZipSink(io.RawIOBase):
    """A write-only stream whose bytes are handed out as they come (zipfile streams into it)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out
