"""Resumable uploads: a recording arrives in chunks at known offsets and survives dropped links.

The protocol is tus-like: create an upload with its size (and optionally its SHA-256), then append
chunks, each stating the offset it starts at. The row's `offset` only moves after the bytes are
kept, so a client that lost its connection asks for the offset and carries on from there.

Where the bytes are kept depends on the storage (`parts_in_storage`): with local storage (one
host) they go to a `.part` file under `data_dir/uploads`; with shared storage (S3, any number of
API hosts) each chunk is spooled on the receiving host and then stored as one object
`uploads/<id>/parts/<offset>.<claim>`, so the next chunk may arrive at any host. The parts are
read back in offset order (`stored_parts`) to sniff, check and assemble the recording.

Only one chunk of an upload is written at a time, in any number of API processes: a chunk first
claims the row by compare-and-set (`claim_chunk`: the offset must be the one the chunk starts at
and no other live writer may hold it), and the offset moves only through that claim
(`finish_chunk`). A claim names its host and process: one left by a process of this host that
is gone is taken over at once (an API restarted mid-chunk), one from another host goes stale
after `CLAIM_STALE`; a writer refreshes its claim while bytes keep arriving (`PartWriter`), and
stops if it lost it.

A full disk (ENOSPC) while a chunk is written cuts the file back to where the chunk began and
raises `NoSpaceError`: the offset stays true and no bytes of the refused chunk remain.

On completion the checksum is checked; a finished upload becomes a lesson (models are filled by
the API) and its `.part` file or stored parts are removed, as they are when an upload is
abandoned or rejected. An upload nobody has added to for `upload_abandon_hours` is removed by
the sweep (`remove_abandoned`), row, `.part` file and stored parts, and so are `.part` files and
stored parts left without a row.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import ForeignKey, String, delete, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.account import new_id
from models.db import Base, session_scope, utcnow
from models.mediatype import SNIFF_BYTES
from models.storage import LocalStorage, Storage

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
    writer: Mapped[str | None] = mapped_column(String(32), default=None)
    """The claim of the chunk being written now (any API process), or None."""
    writer_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    """When that writer last showed it is alive; older than CLAIM_STALE, the claim is void."""

    @property
    def complete(self) -> bool:
        return self.offset >= self.size


CLAIM_STALE = timedelta(seconds=60)
CLAIM_REFRESH_SECONDS = 10.0


class ChunkTooLargeError(Exception):
    """The chunk went past its limit; the bytes beyond it were never written."""


class NoSpaceError(Exception):
    """The upload folder is full; nothing of the chunk was kept."""


class ClaimLostError(Exception):
    """Another writer took over this upload (ours was silent longer than CLAIM_STALE)."""


_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _new_claim() -> str:
    return f"{_HOST}.{os.getpid()}.{new_id()[:12]}"


def _claim_is_dead(claim: str) -> bool:
    """Whether `claim` was made by a process of this host that no longer runs."""
    host, _, rest = claim.partition(".")
    pid = rest.partition(".")[0]
    if host != _HOST or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_chunk(session: Session, upload_id: str, offset: int) -> str | None:
    """Claim the upload for one chunk at `offset`; the claim's token, or None if the offset is
    not the upload's or another live writer holds it. Atomic in the database, so it holds
    across API processes and hosts."""
    token = _new_claim()
    now = utcnow()
    free = or_(Upload.writer.is_(None), Upload.writer_seen_at < now - CLAIM_STALE)
    held = session.scalar(select(Upload.writer).where(Upload.id == upload_id))
    if held is not None and _claim_is_dead(held):
        free = or_(free, Upload.writer == held)
    result = session.execute(
        update(Upload)
        .where(Upload.id == upload_id, Upload.offset == offset, free)
        .values(writer=token, writer_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return token if result.rowcount == 1 else None  # type: ignore[attr-defined]


def refresh_claim(session: Session, upload_id: str, token: str) -> bool:
    result = session.execute(
        update(Upload)
        .where(Upload.id == upload_id, Upload.writer == token)
        .values(writer_seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def finish_chunk(session: Session, upload_id: str, token: str, offset: int | None) -> bool:
    """Release the claim, moving the offset to `offset` (None: leave it); False if it was lost."""
    values: dict[str, object] = {"writer": None, "writer_seen_at": None, "updated_at": utcnow()}
    if offset is not None:
        values["offset"] = offset
    result = session.execute(
        update(Upload)
        .where(Upload.id == upload_id, Upload.writer == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def uploads_dir(data_dir: Path) -> Path:
    folder = data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def part_path(data_dir: Path, upload_id: str) -> Path:
    if not upload_id.isalnum():  # ids are hex; nothing else may become a path
        raise ValueError(f"bad upload id {upload_id!r}")
    return uploads_dir(data_dir) / f"{upload_id}.part"


def spool_path(data_dir: Path, upload_id: str) -> Path:
    """Where one chunk bound for shared storage waits on this host (a `.part` name, so a spool
    left by a crash is tidied as a stray file)."""
    part_path(data_dir, upload_id)  # the same check of the id
    return uploads_dir(data_dir) / f".spool-{upload_id}-{new_id()[:12]}.part"


def parts_in_storage(storage: Storage | None) -> bool:
    """Chunks go to the storage when it is shared by every API host (anything but a folder)."""
    return storage is not None and not isinstance(storage, LocalStorage)


UPLOADS_PREFIX = "uploads/"


def parts_prefix(upload_id: str) -> str:
    if not upload_id.isalnum():  # ids are hex; nothing else may become a key
        raise ValueError(f"bad upload id {upload_id!r}")
    return f"{UPLOADS_PREFIX}{upload_id}/parts/"


def stored_part_key(upload_id: str, offset: int, token: str) -> str:
    """The key of the chunk starting at `offset`, written under claim `token`: zero-padded, so
    keys sort in offset order; the claim in the name keeps a stalled writer's late part apart
    from the one that replaced it."""
    return f"{parts_prefix(upload_id)}{offset:020d}.{token}"


def stored_parts(storage: Storage, upload_id: str, size: int) -> list[tuple[str, int]]:
    """The stored parts that make the upload's bytes 0..size, in order, as (key, length).

    Parts are chained from offset 0: at each offset the part that continues the chain is taken,
    so a part left by a writer that lost its claim (or a duplicate) is passed over."""
    by_offset: dict[int, list[str]] = {}
    for key in sorted(storage.list_keys(parts_prefix(upload_id))):
        name = key.rpartition("/")[2]
        start = name.partition(".")[0]
        if start.isdigit():
            by_offset.setdefault(int(start), []).append(key)
    chain: list[tuple[str, int]] = []
    offset = 0
    while offset < size and by_offset.get(offset):
        candidates = [(key, storage.size(key)) for key in by_offset[offset]]
        following = [
            c
            for c in candidates
            if c[1] > 0 and (offset + c[1] in by_offset or offset + c[1] >= size)
        ]
        key, length = (following or candidates)[0]
        if length <= 0:
            break
        chain.append((key, length))
        offset += length
    return chain


def iter_stored(storage: Storage, upload_id: str, size: int) -> Iterator[bytes]:
    """The upload's stored bytes in order, block by block."""
    for key, _ in stored_parts(storage, upload_id, size):
        yield from storage.open_range(key)


def stored_head(storage: Storage, upload_id: str, size: int) -> bytes:
    head = b""
    for block in iter_stored(storage, upload_id, size):
        head += block
        if len(head) >= SNIFF_BYTES:
            break
    return head[:SNIFF_BYTES]


def assemble(storage: Storage, upload_id: str, size: int, dst: Path) -> None:
    """Write the upload's stored parts into `dst`, in order (for making the lesson)."""
    with open(dst, "wb") as out:
        for block in iter_stored(storage, upload_id, size):
            out.write(block)


def discard(data_dir: Path, upload_id: str, storage: Storage | None = None) -> None:
    """Remove the upload's bytes: its `.part` file, and its stored parts when they are shared."""
    part_path(data_dir, upload_id).unlink(missing_ok=True)
    if parts_in_storage(storage):
        assert storage is not None  # noqa: S101 - parts_in_storage said so
        storage.delete_prefix(parts_prefix(upload_id))


class PartWriter:
    """Writes a chunk into an upload's `.part` file; `write` is the one call that touches the
    disk, so a test can stand in a full disk by overriding it."""

    def write(self, fd: int, data: memoryview) -> int:
        return os.write(fd, data)

    def append_chunk(
        self,
        path: Path,
        offset: int,
        chunks: Iterable[bytes],
        limit: int,
        keep_alive: Callable[[], bool] = lambda: True,
    ) -> int:
        """Write the streamed chunk at `offset`; return how many bytes were written.

        Bytes are written as they arrive (never the whole chunk in memory). If the stream breaks
        part-way, what arrived is kept and flushed before the exception propagates, so the caller
        can record the new offset. Past `limit` bytes, or on a full disk, the file is cut back to
        `offset` (ChunkTooLargeError, NoSpaceError), so nothing of a refused chunk remains.
        `keep_alive` is called every CLAIM_REFRESH_SECONDS; False (the claim was lost) stops the
        write with ClaimLostError, leaving the file to the new writer.
        """
        written = 0
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        lost = False
        try:
            os.ftruncate(fd, offset)  # anything after the recorded offset was never acknowledged
            os.lseek(fd, offset, os.SEEK_SET)
            last_alive = time.monotonic()
            try:
                for block in chunks:
                    if written + len(block) > limit:
                        os.ftruncate(fd, offset)
                        written = 0
                        raise ChunkTooLargeError
                    if time.monotonic() - last_alive > CLAIM_REFRESH_SECONDS:
                        if not keep_alive():
                            lost = True
                            raise ClaimLostError
                        last_alive = time.monotonic()
                    view = memoryview(block)
                    while view:
                        n = self.write(fd, view)
                        view = view[n:]
                    written += len(block)
                os.fsync(fd)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                os.ftruncate(fd, offset)  # shrinking needs no space
                raise NoSpaceError from None
            except BaseException:
                if not lost:
                    os.fsync(fd)  # keep what arrived of a dropped chunk
                raise
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


def sha256_stored(storage: Storage, upload_id: str, size: int) -> str:
    digest = hashlib.sha256()
    for block in iter_stored(storage, upload_id, size):
        digest.update(block)
    return digest.hexdigest()


@dataclass
class AbandonedReport:
    uploads: list[str] = field(default_factory=list)
    """Ids of the upload rows removed."""
    orphans: list[str] = field(default_factory=list)
    """Names of `.part` files removed that no upload row owned."""
    stored_orphans: list[str] = field(default_factory=list)
    """Ids whose stored parts were removed though no upload row owned them."""


def remove_abandoned(
    db_url: str,
    data_dir: Path,
    older_than: timedelta,
    *,
    now: datetime | None = None,
    storage: Storage | None = None,
) -> AbandonedReport:
    """Remove unfinished uploads untouched for `older_than`, with their `.part` files and stored
    parts, and `.part` files of that age that belong to no upload (a crash between steps).

    Stored parts whose upload row is gone are removed whatever their age: a row is made before
    its first part and removed before its parts, and the keys are listed before the rows are
    read, so a part of an upload begun meanwhile is never taken for an orphan.

    "Touched" is the row's `updated_at` (every stored chunk moves it) and, for a file, its
    modification time. A chunk arriving meanwhile keeps its upload: the delete is conditional
    on the row still being as old as it was when it was picked.
    """
    now = now or utcnow()
    cutoff = now - older_than
    report = AbandonedReport()
    shared = storage if parts_in_storage(storage) else None
    stored_ids = (
        {key[len(UPLOADS_PREFIX) :].partition("/")[0] for key in shared.list_keys(UPLOADS_PREFIX)}
        if shared is not None
        else set()
    )
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
        discard(data_dir, upload_id, shared)
    if shared is not None:
        for upload_id in sorted(stored_ids - known - set(report.uploads)):
            if upload_id.isalnum():
                shared.delete_prefix(parts_prefix(upload_id))
                report.stored_orphans.append(upload_id)
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
    if report.uploads or report.orphans or report.stored_orphans:
        log.info(
            "removed abandoned uploads %s, stray files %s and stray stored parts of %s",
            report.uploads,
            report.orphans,
            report.stored_orphans,
        )
    return report
