"""Object storage for recordings and everything made from them, behind one small interface.

    Storage (protocol)
    ├── LocalStorage   a folder on disk (embedded default; `file:///path`)
    └── S3Storage      MinIO or any S3 API (`s3://KEY:SECRET@HOST:PORT/BUCKET?secure=false`),
                       in models/s3storage.py

Keys are relative POSIX paths like `lessons/<id>/lesson.mp4`. `check_key` refuses anything that
could escape the root (absolute paths, `..`, backslashes, control characters), whatever the
backend. `open_storage(url)` and `public_media_origin(url)` are the only code that looks at the
URL's scheme.

    StorageError                    base; `code` is stable
    ├── StorageKeyError  bad_key    a key that is not a safe relative path
    ├── ObjectMissingError  missing the key does not exist
    └── StorageUnavailableError  storage_unavailable  the backend cannot be reached (transient)
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urlparse

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

    def local_path(self, key: str) -> Path | None:
        """The object's file on this machine, if the backend keeps one (local disk only)."""

    def presigned_get_url(self, key: str, expires: timedelta) -> str | None:
        """A short-lived URL a browser can fetch with range requests, or None if not supported."""

    def presigned_put_url(self, key: str, expires: timedelta) -> str | None: ...


class LocalStorage:
    """Objects as files under one root folder; writes are atomic renames."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # a symlink inside the root pointing out
            raise StorageKeyError(f"unsafe storage key: {key!r}")
        return path

    @contextlib.contextmanager
    def _writing(self, key: str) -> Iterator[BinaryIO]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".incoming.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, src: Path, content_type: str | None = None) -> None:  # noqa: ARG002 - files on disk carry no content type
        with self._writing(key) as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, CHUNK)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:  # noqa: ARG002 - files on disk carry no content type
        with self._writing(key) as out:
            out.write(data)

    def _existing(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise ObjectMissingError(key)
        return path

    def get_file(self, key: str, dst: Path) -> None:
        src = self._existing(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.part")
        tmp.unlink(missing_ok=True)
        try:
            try:
                os.link(src, tmp)  # same disk: no copy of a multi-gigabyte recording
            except OSError:
                shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def get_bytes(self, key: str) -> bytes:
        return self._existing(key).read_bytes()

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        path = self._existing(key)
        remaining = (end + 1 - start) if end is not None else None
        with open(path, "rb") as handle:
            handle.seek(start)
            while remaining is None or remaining > 0:
                block = handle.read(CHUNK if remaining is None else min(CHUNK, remaining))
                if not block:
                    break
                if remaining is not None:
                    remaining -= len(block)
                yield block

    def size(self, key: str) -> int:
        return self._existing(key).stat().st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        folder = self._path(prefix.rstrip("/"))
        if folder.is_dir():
            shutil.rmtree(folder)
        elif folder.is_file():
            folder.unlink()

    def list_keys(self, prefix: str) -> list[str]:
        folder = self._path(prefix.rstrip("/"))
        if not folder.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".incoming.")
        )

    def local_path(self, key: str) -> Path | None:
        return self._existing(key)

    def presigned_get_url(self, key: str, expires: timedelta) -> str | None:  # noqa: ARG002 - a folder cannot sign URLs: the API streams instead
        return None

    def presigned_put_url(self, key: str, expires: timedelta) -> str | None:  # noqa: ARG002 - a folder cannot sign URLs: uploads go through the API
        return None


def open_storage(url: str) -> Storage:
    """The storage backend named by `url`: `file:///path` or `s3://...`."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(Path(unquote(parsed.path)))
    if parsed.scheme in ("s3", "minio"):
        from models.s3storage import S3Storage  # the minio client is only needed for S3

        return S3Storage.from_url(url)
    raise ValueError(f"unsupported storage URL scheme {parsed.scheme!r} (use file:// or s3://)")


def public_media_origin(url: str) -> str | None:
    """The origin browsers fetch stored media from when the API redirects them to a presigned
    URL (S3: its `public_url`, else its endpoint), or None when the app serves the bytes itself.

    The pages' Content-Security-Policy allows this origin for media and images; nothing else.
    """
    parsed = urlparse(url)
    if parsed.scheme in ("s3", "minio"):
        from models.s3storage import public_origin_of

        return public_origin_of(url)
    return None


@functools.cache
def shared_storage(url: str) -> Storage:
    """The process's one backend for `url`: the API's dependency and the worker tasks share this
    cache, so an S3 client (and its connection pool) is built once per process and URL."""
    return open_storage(url)
