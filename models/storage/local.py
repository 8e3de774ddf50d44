"""The local-disk backend (embedded default, `file:///path`): objects are files under one root
folder, and every write is an atomic rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from models.storage.base import CHUNK, ObjectMissingError, StorageKeyError, check_key


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
        return self._files(folder)

    def every_key(self) -> list[str]:
        return self._files(self.root)

    def _files(self, folder: Path) -> list[str]:
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
