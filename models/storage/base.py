"""What every storage backend shares: the interface, safe keys and the error tree.

    StorageError                    base; `code` is stable
    ├── StorageKeyError  bad_key    a key that is not a safe relative path
    ├── ObjectMissingError  missing the key does not exist
    └── StorageUnavailableError  storage_unavailable  the backend cannot be reached (transient)

Keys are relative POSIX paths like `lessons/<id>/lesson.mp4`. `check_key` refuses anything that
could escape the root (absolute paths, `..`, backslashes, control characters), whatever the
backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Protocol

CHUNK = 1024 * 1024


class StorageError(Exception):
    code = "storage_error"


class StorageKeyError(StorageError):
    code = "bad_key"


class ObjectMissingError(StorageError):
    code = "missing"


class StorageUnavailableError(StorageError):
    code = "storage_unavailable"


_UNSAFE = re.compile(r"[\x00-\x1f\\]")


def check_key(key: str) -> str:
    """Return `key` if it is a safe relative object name, else raise StorageKeyError."""
    if not key or len(key) > 1024 or _UNSAFE.search(key) or key.startswith("/"):
        raise StorageKeyError(f"unsafe storage key: {key!r}")
    # split by hand: PurePosixPath folds "a/./b" and "a//b" into "a/b", hiding those segments
    if any(part in ("..", ".", "") for part in key.split("/")):
        raise StorageKeyError(f"unsafe storage key: {key!r}")
    return key


class Storage(Protocol):
    """What the rest of clipcoach may ask of object storage."""

    def put_file(self, key: str, src: Path, content_type: str | None = None) -> None:
        """Store the file at `src` under `key`, replacing any object there, all or nothing."""

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    def get_file(self, key: str, dst: Path) -> None:
        """Copy the object to `dst` (written under a temporary name, then renamed)."""

    def get_bytes(self, key: str) -> bytes: ...

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes `start`..`end` inclusive (end None: to the end of the object)."""

    def size(self, key: str) -> int: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""

    def delete_prefix(self, prefix: str) -> None: ...

    def list_keys(self, prefix: str) -> list[str]: ...

    def every_key(self) -> list[str]:
        """Every key stored, whatever its prefix: what deletion-completeness checks read."""

    def local_path(self, key: str) -> Path | None:
        """The object's file on this machine, if the backend keeps one (local disk only)."""

    def presigned_get_url(self, key: str, expires: timedelta) -> str | None:
        """A short-lived URL a browser can fetch with range requests, or None if not supported."""

    def presigned_put_url(self, key: str, expires: timedelta) -> str | None: ...
