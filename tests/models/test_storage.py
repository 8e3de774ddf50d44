"""One storage suite, run against every backend: LocalStorage and S3Storage on a real S3 server.

The S3 cases talk to seaweedfs `weed mini` on loopback (tests.services.s3_server), which checks
signatures and presigned expiry like MinIO does.
"""

from __future__ import annotations

import http.client
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from models.storage import (
    LocalStorage,
    ObjectMissingError,
    Storage,
    StorageError,
    StorageKeyError,
    StorageUnavailableError,
    open_storage,
)
from models.storage.s3 import MIN_PART_SIZE, S3Storage
from tests.services import WeedServer, free_port_pair

BAD_KEYS = ["", "/abs/key", "a/../b", "../up", "..", "dir/", "back\\slash", "nul\x00", "x" * 1025]


@pytest.fixture(
    params=["local", pytest.param("s3", marks=pytest.mark.services)],
)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return open_storage((tmp_path / "store").as_uri())
    url = request.getfixturevalue("s3_url") + "&part_size_mb=5"
    store = open_storage(url)
    assert isinstance(store, S3Storage)
    assert store.part_size == MIN_PART_SIZE
    return store


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_bytes_round_trip_and_replace(storage: Storage) -> None:
    storage.put_bytes("lessons/a/probe.json", b'{"v": 1}')
    assert storage.get_bytes("lessons/a/probe.json") == b'{"v": 1}'
    storage.put_bytes("lessons/a/probe.json", b'{"v": 2}')
    assert storage.get_bytes("lessons/a/probe.json") == b'{"v": 2}'
    assert storage.size("lessons/a/probe.json") == 8
    assert storage.exists("lessons/a/probe.json")
    assert not storage.exists("lessons/a/other.json")


def test_empty_object(storage: Storage) -> None:
    storage.put_bytes("lessons/e/empty.txt", b"")
    assert storage.size("lessons/e/empty.txt") == 0
    assert storage.get_bytes("lessons/e/empty.txt") == b""
    assert b"".join(storage.open_range("lessons/e/empty.txt")) == b""


def test_large_file_round_trip_in_parts(storage: Storage, tmp_path: Path) -> None:
    """12 MiB crosses the 5 MiB part size: a multipart upload on S3, a plain copy on disk."""
    data = os.urandom(12 * 1024 * 1024 + 123)
    src = tmp_path / "big.mp4"
    src.write_bytes(data)
    storage.put_file("lessons/b/source.mp4", src, content_type="video/mp4")
    assert storage.size("lessons/b/source.mp4") == len(data)

    scratch = tmp_path / "scratch"
    dst = scratch / "source.mp4"
    storage.get_file("lessons/b/source.mp4", dst)
    assert dst.read_bytes() == data
    assert _leftovers(scratch) == []  # the temporary name is gone after the rename
    assert src.read_bytes() == data  # the input is never touched


def test_get_file_of_missing_object_leaves_nothing(storage: Storage, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(ObjectMissingError):
        storage.get_file("lessons/none/source.mp4", scratch / "source.mp4")
    assert list(scratch.iterdir()) == []


def test_get_file_replaces_existing_destination(storage: Storage, tmp_path: Path) -> None:
    storage.put_bytes("k/new.bin", b"new contents")
    dst = tmp_path / "dst.bin"
    dst.write_bytes(b"old")
    storage.get_file("k/new.bin", dst)
    assert dst.read_bytes() == b"new contents"


def test_missing_object_errors(storage: Storage) -> None:
    for call in (
        lambda: storage.get_bytes("no/such"),
        lambda: storage.size("no/such"),
        lambda: b"".join(storage.open_range("no/such")),
        lambda: b"".join(storage.open_range("no/such", 5, 10)),
        lambda: b"".join(storage.open_range("no/such", 10**9)),
    ):
        with pytest.raises(ObjectMissingError):
            call()
    storage.delete("no/such")  # deleting a missing object is fine


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, slice(0, None)),
        (0, 0, slice(0, 1)),
        (10, 19, slice(10, 20)),
        (1000, None, slice(1000, None)),
        (2990, 5000, slice(2990, None)),  # an end past the object is clipped
        (3000, None, slice(3000, 3000)),  # starting at the end gives nothing
        (5000, 6000, slice(5000, 5000)),
    ],
)
def test_open_range(storage: Storage, start: int, end: int | None, expected: slice) -> None:
    data = bytes(range(256)) * 11 + bytes(184)  # 3000 bytes
    storage.put_bytes("lessons/r/lesson.mp4", data)
    assert b"".join(storage.open_range("lessons/r/lesson.mp4", start, end)) == data[expected]


def test_list_and_delete_prefix(storage: Storage) -> None:
    for key in ("lessons/x/a.txt", "lessons/x/sub/b.txt", "lessons/xy/c.txt", "lessons/z.txt"):
        storage.put_bytes(key, key.encode())
    assert storage.list_keys("lessons/x") == ["lessons/x/a.txt", "lessons/x/sub/b.txt"]
    assert storage.list_keys("lessons/x/") == ["lessons/x/a.txt", "lessons/x/sub/b.txt"]
    assert storage.list_keys("lessons/none") == []
    storage.delete_prefix("lessons/x")
    assert storage.list_keys("lessons/x") == []
    assert storage.exists("lessons/xy/c.txt")  # a sibling sharing the name's start survives
    storage.delete("lessons/xy/c.txt")
    assert not storage.exists("lessons/xy/c.txt")
    storage.delete_prefix("lessons/z.txt")  # a single object named by the prefix goes too
    assert not storage.exists("lessons/z.txt")
    storage.delete_prefix("lessons/never")  # nothing there: not an error
    for key in ("lessons/y/c.txt", "uploads/u.part"):
        storage.put_bytes(key, b"u")
    assert storage.every_key() == ["lessons/y/c.txt", "uploads/u.part"]  # whatever the prefix


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_are_refused_everywhere(storage: Storage, key: str, tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"x")
    calls: list[Callable[[], object]] = [
        lambda: storage.put_file(key, src),
        lambda: storage.put_bytes(key, b"x"),
        lambda: storage.get_file(key, tmp_path / "out"),
        lambda: storage.get_bytes(key),
        lambda: b"".join(storage.open_range(key)),
        lambda: storage.size(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.local_path(key),
    ]
    if not key.endswith("/"):  # `dir/` is a fine prefix, just not an object name
        calls += [lambda: storage.list_keys(key), lambda: storage.delete_prefix(key)]
    if isinstance(storage, S3Storage):  # LocalStorage presigns nothing, whatever the key
        calls.append(lambda: storage.presigned_get_url(key, timedelta(minutes=1)))
        calls.append(lambda: storage.presigned_put_url(key, timedelta(minutes=1)))
    for call in calls:
        with pytest.raises(StorageKeyError):
            call()
    assert not (tmp_path / "out").exists()


def test_local_path_and_presigning_by_backend(storage: Storage) -> None:
    storage.put_bytes("lessons/p/poster.jpg", b"jpeg")
    if isinstance(storage, LocalStorage):
        path = storage.local_path("lessons/p/poster.jpg")
        assert path is not None and path.read_bytes() == b"jpeg"
        assert storage.presigned_get_url("lessons/p/poster.jpg", timedelta(minutes=5)) is None
        assert storage.presigned_put_url("lessons/p/poster.jpg", timedelta(minutes=5)) is None
    else:
        assert storage.local_path("lessons/p/poster.jpg") is None
        assert storage.presigned_get_url("lessons/p/poster.jpg", timedelta(minutes=5))
        assert storage.presigned_put_url("lessons/p/poster.jpg", timedelta(minutes=5))


# -- S3 only: presigned URLs, errors, the URL form -----------------------------------------------


def _fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.services
def test_presigned_get_supports_range_requests_and_expires(s3_url: str) -> None:
    store = S3Storage.from_url(s3_url)
    data = os.urandom(100_000)
    store.put_bytes("lessons/v/lesson.mp4", data)
    url = store.presigned_get_url("lessons/v/lesson.mp4", timedelta(seconds=2))
    assert url is not None and url.startswith("http://127.0.0.1:")

    status, headers, body = _fetch(url, {"Range": "bytes=1000-1999"})
    assert status == 206
    assert body == data[1000:2000]
    assert headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    assert headers["Content-Type"] == "video/mp4"  # guessed from the key, so browsers can play it

    status, _, body = _fetch(url)
    assert (status, body) == (200, data)

    time.sleep(3.5)
    status, _, body = _fetch(url, {"Range": "bytes=0-9"})
    assert status == 403, "an expired presigned URL must stop working"
    assert data[:10] not in body


@pytest.mark.services
def test_presigned_url_is_bound_to_its_key(s3_url: str) -> None:
    store = S3Storage.from_url(s3_url)
    store.put_bytes("lessons/a/lesson.mp4", b"a")
    store.put_bytes("lessons/b/lesson.mp4", b"b")
    url = store.presigned_get_url("lessons/a/lesson.mp4", timedelta(minutes=1))
    assert url is not None
    tampered = url.replace("lessons/a/", "lessons/b/")
    assert _fetch(tampered)[0] == 403


@pytest.mark.services
def test_presigned_put_uploads_directly(s3_url: str) -> None:
    store = S3Storage.from_url(s3_url)
    url = store.presigned_put_url("uploads/u1/chunk-000001", timedelta(minutes=1))
    assert url is not None
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    conn.request("PUT", f"{parts.path}?{parts.query}", body=b"chunk bytes")
    assert conn.getresponse().status == 200
    conn.close()
    assert store.get_bytes("uploads/u1/chunk-000001") == b"chunk bytes"


@pytest.mark.services
def test_bucket_is_created_on_first_use(s3_server: WeedServer) -> None:
    from minio import Minio

    bucket = f"cc-new-{os.urandom(4).hex()}"
    store = S3Storage.from_url(s3_server.url(bucket))
    admin = Minio(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=False)
    assert not admin.bucket_exists(bucket)
    assert not store.exists("anything")
    assert admin.bucket_exists(bucket)
    # a second client finding the bucket already there is fine too
    S3Storage.from_url(s3_server.url(bucket)).put_bytes("k", b"v")


@pytest.mark.services
def test_unreachable_server_is_transient(tmp_path: Path) -> None:
    port = free_port_pair()  # nothing listens there
    store = S3Storage.from_url(f"s3://k:s@127.0.0.1:{port}/bucket?secure=false")
    started = time.monotonic()
    with pytest.raises(StorageUnavailableError):
        store.put_bytes("lessons/a/x", b"x")
    with pytest.raises(StorageUnavailableError):
        store.get_file("lessons/a/x", tmp_path / "x")
    assert not (tmp_path / "x").exists() and list(tmp_path.iterdir()) == []
    assert time.monotonic() - started < 20, "an unreachable store must fail fast"


@pytest.mark.services
def test_wrong_secret_is_not_transient(s3_server: WeedServer) -> None:
    url = s3_server.url("cc-test-secret").replace(s3_server.secret_key, "not-the-secret")
    with pytest.raises(StorageError) as caught:
        S3Storage.from_url(url).put_bytes("k", b"v")
    assert not isinstance(caught.value, StorageUnavailableError | ObjectMissingError)
    assert s3_server.secret_key not in str(caught.value)


@pytest.mark.services
def test_server_stopped_then_back(s3_server: WeedServer, s3_url: str) -> None:
    """Stopping the store makes calls transient failures; after a restart the data is there."""
    store = S3Storage.from_url(s3_url)
    store.put_bytes("lessons/s/probe.json", b"{}")
    s3_server.stop()
    try:
        with pytest.raises(StorageUnavailableError):
            store.get_bytes("lessons/s/probe.json")
        with pytest.raises(StorageUnavailableError):
            b"".join(store.open_range("lessons/s/probe.json", 0, 1))
    finally:
        s3_server.start()
    assert store.get_bytes("lessons/s/probe.json") == b"{}"


def test_url_form() -> None:
    store = S3Storage.from_url(
        "s3://AK%2Fx:se%2Bcret%40@minio:9000/media?secure=false&region=eu-west-2"
        "&public_url=https://media.school.example&part_size_mb=16"
    )
    assert (store.endpoint, store.bucket, store.secure) == ("minio:9000", "media", False)
    assert store.part_size == 16 * 1024 * 1024
    url = store.presigned_get_url("lessons/a/lesson.mp4", timedelta(minutes=5))
    assert url is not None and url.startswith("https://media.school.example/media/lessons/a/")
    assert "X-Amz-Credential=AK%2Fx%2F" in url and "eu-west-2" in url
    assert "se%2Bcret" not in repr(store) and "se+cret" not in repr(store)
    assert isinstance(open_storage("s3://k:s@127.0.0.1:9/b"), S3Storage)


@pytest.mark.parametrize(
    "url",
    [
        "s3://127.0.0.1:9000/bucket",  # no credentials
        "s3://k:s@127.0.0.1:9000/",  # no bucket
        "s3://k:s@127.0.0.1:9000/a/b",  # a bucket with a path
        "s3://k:s@127.0.0.1:9000/b?secure=maybe",
        "s3://k:s@127.0.0.1:9000/b?colour=blue",
        "s3://k:s@127.0.0.1:9000/b?part_size_mb=1",
        "s3://k:s@127.0.0.1:9000/b?public_url=ftp://x",
    ],
)
def test_bad_urls_fail_at_start(url: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by what is wrong
        S3Storage.from_url(url)


def test_presign_expiry_bounds() -> None:
    store = S3Storage.from_url("s3://k:s@127.0.0.1:9/b?secure=false")
    for bad in (timedelta(0), timedelta(days=8)):
        with pytest.raises(ValueError):  # noqa: PT011
            store.presigned_get_url("k", bad)


def test_shared_storage_is_one_backend_per_url(tmp_path: Path) -> None:
    from models.storage import shared_storage

    first = shared_storage((tmp_path / "a").as_uri())
    assert shared_storage((tmp_path / "a").as_uri()) is first
    assert shared_storage((tmp_path / "b").as_uri()) is not first
