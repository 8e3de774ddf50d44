"""Object storage for recordings and everything made from them, behind one small interface.

    Storage (protocol, models/storage/base.py)
    ├── LocalStorage   a folder on disk (embedded default; `file:///path`), models/storage/local.py
    └── S3Storage      MinIO or any S3 API (`s3://KEY:SECRET@HOST:PORT/BUCKET?secure=false`),
                       models/storage/s3.py (imported only when an s3:// URL is opened)

`open_storage(url)` and `public_media_origin(url)` are the only code that looks at the URL's
scheme. The error tree and `check_key` are in `base` and re-exported here.
"""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import unquote, urlparse

from models.storage.base import (
    CHUNK,
    ObjectMissingError,
    Storage,
    StorageError,
    StorageKeyError,
    StorageUnavailableError,
    check_key,
)
from models.storage.local import LocalStorage

__all__ = [
    "CHUNK",
    "LocalStorage",
    "ObjectMissingError",
    "Storage",
    "StorageError",
    "StorageKeyError",
    "StorageUnavailableError",
    "check_key",
    "open_storage",
    "public_media_origin",
    "shared_storage",
]


def open_storage(url: str) -> Storage:
    """The storage backend named by `url`: `file:///path` or `s3://...`."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(Path(unquote(parsed.path)))
    if parsed.scheme in ("s3", "minio"):
        from models.storage.s3 import S3Storage  # the minio client is only needed for S3

        return S3Storage.from_url(url)
    raise ValueError(f"unsupported storage URL scheme {parsed.scheme!r} (use file:// or s3://)")


def public_media_origin(url: str) -> str | None:
    """The origin browsers fetch stored media from when the API redirects them to a presigned
    URL (S3: its `public_url`, else its endpoint), or None when the app serves the bytes itself.

    The pages' Content-Security-Policy allows this origin for media and images; nothing else.
    """
    parsed = urlparse(url)
    if parsed.scheme in ("s3", "minio"):
        from models.storage.s3 import public_origin_of

        return public_origin_of(url)
    return None


@functools.cache
def shared_storage(url: str) -> Storage:
    """The process's one backend for `url`: the API's dependency and the worker tasks share this
    cache, so an S3 client (and its connection pool) is built once per process and URL."""
    return open_storage(url)
