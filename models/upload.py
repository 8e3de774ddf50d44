"""Resumable uploads: a recording arrives in chunks at known offsets and survives dropped links.

The protocol is tus-like: create an upload with its size (and optionally its SHA-256), then append
chunks, each stating the offset it starts at. The bytes go to a `.part` file under
`data_dir/uploads`; the row's `offset` only moves after the bytes are on disk, so a client that
lost its connection asks for the offset and carries on from there. Uploads are per API host
(local disk): behind several API hosts, route one upload to one host.

On completion the checksum is checked; a finished upload becomes a lesson (models are filled by
the API) and its `.part` file is removed, as it is when an upload is abandoned or rejected.
An upload nobody has added to for `upload_abandon_hours` is removed by the sweep
(`remove_abandoned`), row and `.part` file, and so is any `.part` file left without a row.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from models.account import new_id
from models.db import Base, session_scope, utcnow
from models.mediatype import SNIFF_BYTES

log = logging.getLogger(__name__)


class Upload(Base):
    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(1024), default="")
    size: Mapped[int]
    offset: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def complete(self) -> bool:
        return self.offset >= self.size


class ChunkTooLargeError(Exception):
    """The chunk went past its limit; the bytes beyond it were never written."""


def uploads_dir(data_dir: Path) -> Path:
    folder = data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def part_path(data_dir: Path, upload_id: str) -> Path:
    if not upload_id.isalnum():  # ids are hex; nothing else may become a path
        raise ValueError(f"bad upload id {upload_id!r}")
    return uploads_dir(data_dir) / f"{upload_id}.part"


def discard(data_dir: Path, upload_id: str) -> None:
    part_path(data_dir, upload_id).unlink(missing_ok=True)


async def append_chunk(path: Path, offset: int, chunks: AsyncIterator[bytes], limit: int) -> int:
    """Write the streamed chunk at `offset`; return how many bytes were written.

    Bytes are written as they arrive (never the whole chunk in memory). If the stream breaks
    part-way, what arrived is kept and flushed before the exception propagates, so the caller can
    record the new offset. Past `limit` bytes the chunk is refused and the file is cut back to
    `offset`, so nothing of a refused chunk remains.
    """
    written = 0
    flags = os.O_WRONLY | os.O_CREAT
    fd = os.open(path, flags, 0o600)
    try:
        os.ftruncate(fd, offset)  # anything after the recorded offset was never acknowledged
        os.lseek(fd, offset, os.SEEK_SET)
        try:
            async for block in chunks:
                if written + len(block) > limit:
                    os.ftruncate(fd, offset)
                    written = 0
                    raise ChunkTooLargeError
                view = memoryview(block)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                written += len(block)
        finally:
            os.fsync(fd)
    finally:
        os.close(fd)
    return written


def read_head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(SNIFF_BYTES)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class AbandonedReport:
    uploads: list[str] = field(default_factory=list)
    """Ids of the upload rows removed."""
    orphans: list[str] = field(default_factory=list)
    """Names of `.part` files removed that no upload row owned."""


def remove_abandoned(
    db_url: str, data_dir: Path, older_than: timedelta, *, now: datetime | None = None
) -> AbandonedReport:
    """Remove unfinished uploads untouched for `older_than`, with their `.part` files, and
    `.part` files of that age that belong to no upload (a crash between steps).

    "Touched" is the row's `updated_at` (every stored chunk moves it) and, for a file, its
    modification time. A chunk arriving meanwhile keeps its upload: the delete is conditional
    on the row still being as old as it was when it was picked.
    """
    now = now or utcnow()
    cutoff = now - older_than
    report = AbandonedReport()
    with session_scope(db_url) as session:
        stale = list(session.scalars(select(Upload.id).where(Upload.updated_at < cutoff)))
        for upload_id in stale:
            result = session.execute(
                delete(Upload).where(Upload.id == upload_id, Upload.updated_at < cutoff)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                report.uploads.append(upload_id)
        known = set(session.scalars(select(Upload.id)))
    for upload_id in report.uploads:
        discard(data_dir, upload_id)
    folder = uploads_dir(data_dir)
    for path in folder.glob("*.part"):
        owner = path.name.removesuffix(".part")
        if owner in known:
            continue
        try:
            touched = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except FileNotFoundError:  # removed meanwhile (a lesson took it)
            continue
        if touched < cutoff:
            path.unlink(missing_ok=True)
            report.orphans.append(path.name)
    if report.uploads or report.orphans:
        log.info("removed abandoned uploads %s and stray files %s", report.uploads, report.orphans)
    return report
