"""OUT/.clipcoach-batch.json: what earlier runs did, keyed by the recording's SHA-256, and the
lock that keeps two runs from writing it at once.

Why the manifest lives in OUT rather than only in the database: the outputs and the record of how
they were made travel together, so a re-run into the same OUT knows what is done even if the
database was reset, and a second OUT is a fresh batch. The database stays the truth about a
lesson's processing; the manifest only remembers which lesson belongs to which checksum.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from models.upload import sha256_file
from workers.batch.errors import BatchError

MANIFEST_NAME = ".clipcoach-batch.json"
LOCK_NAME = ".clipcoach-batch.lock"
MANIFEST_VERSION = 1


class EntryState(enum.StrEnum):
    created = "created"
    """A lesson id was chosen; the lesson row and queue message may not exist yet."""
    sent = "sent"
    """The lesson was sent to the queue."""
    done = "done"
    failed = "failed"


class Manifest:
    """OUT/.clipcoach-batch.json, rewritten atomically after every change.

    `entries` maps a checksum to what happened to that content (lesson id, state, options,
    error); `checksums` caches path/size/mtime -> checksum so a re-run over a folder of hour-long
    recordings does not read every byte again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self.checksums: dict[str, dict[str, Any]] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise BatchError(
                    f"{path} is not a readable batch manifest ({exc}); move it away to start afresh"
                ) from exc
            if data.get("version") == MANIFEST_VERSION:
                self.entries = dict(data.get("entries", {}))
                self.checksums = dict(data.get("checksums", {}))

    def save(self) -> None:
        data = {"version": MANIFEST_VERSION, "entries": self.entries, "checksums": self.checksums}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".manifest.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def checksum(self, path: Path) -> str:
        """The file's SHA-256, from the cache when its size and modification time are unchanged."""
        stat = path.stat()
        key = str(path.resolve())
        cached = self.checksums.get(key)
        if cached and cached["size"] == stat.st_size and cached["mtime_ns"] == stat.st_mtime_ns:
            return str(cached["sha256"])
        digest = sha256_file(path)
        self.checksums[key] = {
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": digest,
        }
        return digest

    def update(self, sha256: str, **values: Any) -> dict[str, Any]:
        entry = self.entries.setdefault(sha256, {})
        entry.update(values)
        self.save()
        return entry


@contextlib.contextmanager
def out_folder_lock(out: Path) -> Iterator[None]:
    """Hold OUT for this run: two batches writing one manifest would lose each other's work.

    An advisory lock dies with its process, so a killed run never leaves OUT locked.
    """
    out.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(out / LOCK_NAME, "w")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(f"another batch is writing to {out}; wait for it to finish") from None
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()
