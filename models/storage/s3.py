"""The S3 backend of models.storage: MinIO (or any S3 API) through the `minio` client.

URL form, read by `S3Storage.from_url` (credentials percent-encoded if they hold `/`, `+`, `@`):

    s3://KEY:SECRET@HOST:PORT/BUCKET?secure=false&region=us-east-1&public_url=https://media.school
         &part_size_mb=64

- `secure` (default true) speaks HTTPS to HOST:PORT.
- `public_url` is where browsers reach the same server, when it differs from the address the
  workers use (compose: workers say `minio:9000`, browsers say `https://media.school.example`).
  Presigned URLs are signed for that host, because the host is part of the signature.
- `region` is fixed so that presigning never needs a round trip to the server.
- `part_size_mb` is the multipart part size for large uploads (at least 5).

Errors map onto the storage hierarchy: a server that cannot be reached, times out or answers 5xx
is `StorageUnavailableError` (transient: workers retry with backoff); a missing object is
`ObjectMissingError`; anything else the server refuses (bad credentials, a bad bucket name) is a
plain `StorageError`, which retrying would not fix.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import tempfile
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import NoReturn
from urllib.parse import parse_qs, unquote, urlparse

import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error, ServerError
from urllib3.exceptions import HTTPError as Urllib3Error

from models.storage.base import (
    CHUNK,
    ObjectMissingError,
    StorageError,
    StorageUnavailableError,
    check_key,
)

DEFAULT_PART_SIZE = 64 * 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "NoSuchObject", "ResourceNotFound"})
TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "XMinioServerNotInitialized",
    }
)


def _http_client(connect_timeout: float, read_timeout: float) -> urllib3.PoolManager:
    """Short timeouts and few retries: an unreachable store must surface quickly as transient,
    so the Celery task's own backoff (minutes, not seconds) decides how long to keep trying."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        maxsize=10,
        retries=urllib3.Retry(
            total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504], redirect=False
        ),
    )


class S3Storage:
    """Objects in one S3 bucket, created on first use if it does not exist."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = True,
        region: str = "us-east-1",
        public_endpoint: str | None = None,
        public_secure: bool | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"S3 part size must be at least {MIN_PART_SIZE} bytes")
        self.bucket = bucket
        self.endpoint = endpoint
        self.secure = secure
        self.part_size = part_size
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=_http_client(connect_timeout, read_timeout),
        )
        # Presigning is local computation (the region is given), so the public client never
        # connects anywhere: it only signs URLs for the host browsers will use.
        self._presigner = (
            Minio(
                public_endpoint,
                access_key=access_key,
                secret_key=secret_key,
                secure=secure if public_secure is None else public_secure,
                region=region,
            )
            if public_endpoint
            else self._client
        )
        self._bucket_ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> S3Storage:
        """Parse `s3://KEY:SECRET@HOST:PORT/BUCKET?secure=false&public_url=...`."""
        parsed = urlparse(url)
        if parsed.scheme not in ("s3", "minio"):
            raise ValueError(f"not an S3 storage URL: scheme {parsed.scheme!r}")
        bucket = parsed.path.strip("/")
        if not parsed.hostname or not bucket or "/" in bucket:
            raise ValueError("S3 storage URL needs a host and one bucket: s3://KEY:SECRET@HOST/B")
        if parsed.username is None or parsed.password is None:
            raise ValueError("S3 storage URL needs credentials: s3://KEY:SECRET@HOST:PORT/BUCKET")
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        unknown = set(query) - {"secure", "region", "public_url", "part_size_mb"}
        if unknown:
            raise ValueError(f"unknown S3 storage URL options: {', '.join(sorted(unknown))}")
        endpoint = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
        public_endpoint, public_secure = None, None
        if query.get("public_url"):
            public = urlparse(query["public_url"])
            if public.scheme not in ("http", "https") or not public.hostname:
                raise ValueError("public_url must be http(s)://HOST[:PORT]")
            public_endpoint = public.hostname + (f":{public.port}" if public.port else "")
            public_secure = public.scheme == "https"
        return cls(
            endpoint,
            unquote(parsed.username),
            unquote(parsed.password),
            bucket,
            secure=_flag(query.get("secure", "true")),
            region=query.get("region", "us-east-1"),
            public_endpoint=public_endpoint,
            public_secure=public_secure,
            part_size=int(float(query.get("part_size_mb", DEFAULT_PART_SIZE / 2**20)) * 2**20),
        )

    def __repr__(self) -> str:  # never show the secret
        return f"S3Storage({self.endpoint!r}, bucket={self.bucket!r}, secure={self.secure})"

    # -- plumbing -----------------------------------------------------------------------------

    def _raise(self, exc: BaseException, key: str = "") -> NoReturn:
        if isinstance(exc, S3Error):
            if exc.code in MISSING_CODES:
                raise ObjectMissingError(key) from exc
            if exc.code in TRANSIENT_CODES:
                raise StorageUnavailableError(f"object storage is busy: {exc.code}") from exc
            raise StorageError(
                f"object storage refused {key or 'the request'}: {exc.code}"
            ) from exc
        if isinstance(exc, ServerError):
            status = exc.status_code
            if status >= 500:
                raise StorageUnavailableError(f"object storage answered {status}") from exc
            raise StorageError(f"object storage answered {status}") from exc
        if isinstance(exc, Urllib3Error | OSError | MinioException):
            raise StorageUnavailableError(
                f"object storage at {self.endpoint} is unavailable: {type(exc).__name__}"
            ) from exc
        raise exc

    @contextlib.contextmanager
    def _errors(self, key: str = "") -> Iterator[None]:
        try:
            yield
        except StorageError:
            raise
        except (Urllib3Error, OSError, MinioException) as exc:
            self._raise(exc, key)

    def _ready(self) -> Minio:
        """The client, with the bucket made on first use (not in __init__: a worker may start
        while the store is still down, and must not fail for that)."""
        if not self._bucket_ready:
            with self._lock, self._errors():
                if not self._bucket_ready:
                    if not self._client.bucket_exists(self.bucket):
                        try:
                            self._client.make_bucket(self.bucket)
                        except S3Error as exc:  # another worker made it first
                            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                                raise
                    self._bucket_ready = True
        return self._client

    @staticmethod
    def _content_type(key: str, content_type: str | None) -> str:
        return content_type or mimetypes.guess_type(key)[0] or "application/octet-stream"

    # -- the Storage protocol -----------------------------------------------------------------

    def put_file(self, key: str, src: Path, content_type: str | None = None) -> None:
        """One PUT for small files, a multipart upload in `part_size` parts for large ones; S3
        makes the object visible only when the upload completes, so it is all or nothing."""
        check_key(key)
        client = self._ready()
        with self._errors(key):
            client.fput_object(
                self.bucket,
                key,
                str(src),
                content_type=self._content_type(key, content_type),
                part_size=self.part_size,
            )

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        import io

        check_key(key)
        client = self._ready()
        with self._errors(key):
            client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=self._content_type(key, content_type),
                part_size=self.part_size,
            )

    def get_file(self, key: str, dst: Path) -> None:
        """Stream the object into `dst`'s folder under a temporary name, then rename."""
        check_key(key)
        client = self._ready()
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)
        try:
            with os.fdopen(fd, "wb") as out, self._errors(key):
                response = client.get_object(self.bucket, key)
                try:
                    for block in response.stream(CHUNK):
                        out.write(block)
                finally:
                    response.close()
                    response.release_conn()
            os.replace(tmp, dst)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get_bytes(self, key: str) -> bytes:
        check_key(key)
        client = self._ready()
        with self._errors(key):
            response = client.get_object(self.bucket, key)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes `start`..`end` inclusive with one ranged GET; past the end: nothing."""
        check_key(key)
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"bad byte range {start}-{end}")
        return self._range(key, start, end)

    def _range(self, key: str, start: int, end: int | None) -> Iterator[bytes]:
        client = self._ready()
        length = 0 if end is None else end - start + 1
        with self._errors(key):
            try:
                response = client.get_object(self.bucket, key, offset=start, length=length)
            except S3Error as exc:
                if exc.code == "InvalidRange":  # start at or past the end, as a file read
                    client.stat_object(self.bucket, key)  # but a missing key is still missing
                    return
                raise
            try:
                yield from response.stream(CHUNK)
            finally:
                response.close()
                response.release_conn()

    def size(self, key: str) -> int:
        check_key(key)
        client = self._ready()
        with self._errors(key):
            size = client.stat_object(self.bucket, key).size
        return int(size or 0)

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ObjectMissingError:
            return False
        return True

    def delete(self, key: str) -> None:
        check_key(key)
        client = self._ready()
        with self._errors(key):
            client.remove_object(self.bucket, key)

    def _prefix_keys(self, prefix: str) -> list[str]:
        return self._listed(check_key(prefix.rstrip("/")) + "/")

    def every_key(self) -> list[str]:
        return self._listed("")

    def _listed(self, under: str) -> list[str]:
        client = self._ready()
        with self._errors(under):
            return sorted(
                str(obj.object_name)
                for obj in client.list_objects(self.bucket, prefix=under, recursive=True)
                if obj.object_name and not obj.is_dir
            )

    def delete_prefix(self, prefix: str) -> None:
        """Remove the object `prefix` and everything under `prefix/`, as a folder would go."""
        keys = [prefix.rstrip("/"), *self._prefix_keys(prefix)]
        client = self._ready()
        with self._errors(prefix):
            for start in range(0, len(keys), 1000):  # the S3 batch-delete limit
                batch = [DeleteObject(k) for k in keys[start : start + 1000]]
                failures = list(client.remove_objects(self.bucket, batch))
                if failures:
                    raise StorageError(f"could not delete {failures[0].name}: {failures[0].code}")

    def list_keys(self, prefix: str) -> list[str]:
        return self._prefix_keys(prefix)

    def local_path(self, key: str) -> Path | None:
        check_key(key)
        return None

    def presigned_get_url(self, key: str, expires: timedelta) -> str | None:
        """A GET URL valid for `expires` (1 s to 7 days); S3 honours Range headers on it."""
        return self._presign("GET", key, expires)

    def presigned_put_url(self, key: str, expires: timedelta) -> str | None:
        """A PUT URL a browser can upload one object (or one chunk object) to directly."""
        return self._presign("PUT", key, expires)

    def _presign(self, method: str, key: str, expires: timedelta) -> str:
        check_key(key)
        if not timedelta(seconds=1) <= expires <= timedelta(days=7):
            raise ValueError("presigned URLs last between 1 second and 7 days")
        try:
            return str(self._presigner.get_presigned_url(method, self.bucket, key, expires))
        except (Urllib3Error, OSError, MinioException) as exc:
            self._raise(exc, key)


def public_origin_of(url: str) -> str:
    """`scheme://host[:port]` of the presigned URLs made by the storage at `url` (for the pages'
    Content-Security-Policy); parsed exactly as `S3Storage.from_url` does, without a client."""
    parsed = urlparse(url)
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    if query.get("public_url"):
        public = urlparse(query["public_url"])
        if public.scheme not in ("http", "https") or not public.hostname:
            raise ValueError("public_url must be http(s)://HOST[:PORT]")
        return _origin(public.scheme, public.hostname, public.port)
    if not parsed.hostname:
        raise ValueError("S3 storage URL needs a host: s3://KEY:SECRET@HOST/BUCKET")
    scheme = "https" if _flag(query.get("secure", "true")) else "http"
    return _origin(scheme, parsed.hostname, parsed.port)


def _origin(scheme: str, host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host  # an IPv6 address
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")
