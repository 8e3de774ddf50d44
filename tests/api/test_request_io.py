"""The API's own I/O: it never blocks its event loop, bodies are bounded before sign-in, uploads
have quotas, a full disk is 507 with the offset kept, and one chunk of an upload at a time.

Slow or full disks and storage are injected through the app's dependencies (`get_storage`,
`get_part_writer`, `get_settings`), not patched into modules.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from api.deps import get_part_writer, get_storage
from models.settings import get_settings
from models.storage import Storage, open_storage
from models.upload import PartWriter
from tests.api.conftest import Media, World
from tests.services import tiny_tmpfs


def new_upload(world: World, size: int, who: str = "ect_a") -> Any:
    return world.client.post(
        "/api/v1/uploads", headers=world.auth(who), json={"filename": "l.mp4", "size": size}
    )


def patch(world: World, upload_id: str, offset: int, data: bytes) -> Any:
    return world.client.patch(
        f"/api/v1/uploads/{upload_id}",
        headers={**world.auth("ect_a"), "Upload-Offset": str(offset)},
        content=data,
    )


# the event loop stays free


class SlowStorage:
    """A real storage whose `exists` blocks until released, as a stalled S3 call would."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()

    def exists(self, key: str) -> bool:
        self.entered.set()
        self.release.wait(10)
        return self.inner.exists(key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_health_answers_while_a_storage_call_is_stalled(world: World) -> None:
    slow = SlowStorage(open_storage(world.settings.storage_url))
    world.app.dependency_overrides[get_storage] = lambda: slow
    clip = world.ids["clip_shared"]  # rendered: the route asks storage whether it is there
    stalled = threading.Thread(
        target=world.client.get,
        args=(f"/api/v1/clips/{clip}/media",),
        kwargs={"headers": world.auth("mentor")},
    )
    stalled.start()
    try:
        assert slow.entered.wait(5)
        began = time.monotonic()
        r = world.client.get("/api/v1/health")
        took = time.monotonic() - began
        assert r.status_code == 200
        assert took < 1.0, f"/health waited {took:.1f} s behind a storage call"
    finally:
        slow.release.set()
        stalled.join(15)


# bounded bodies


def big_json(size: int) -> bytes:
    return b'{"title": "' + b"x" * size + b'"}'


def test_a_huge_json_body_is_413_before_sign_in(world: World) -> None:
    body = big_json(2 * 1024 * 1024)
    for path in ("/api/v1/clips", "/api/v1/auth/token", "/api/v1/batches"):
        r = world.client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 413, (path, r.status_code)
        assert r.json()["code"] == "body_too_large"


def test_a_streamed_json_body_is_cut_off_at_the_limit(world: World) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted as it streams
        for _ in range(4):
            yield b" " * (1024 * 1024)

    r = world.client.post(
        "/api/v1/clips",
        content=chunks(),
        headers={**world.auth("mentor"), "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large"


def test_chunks_still_take_large_bodies(world: World, media: Media) -> None:
    data = media.video.read_bytes()
    assert len(data) > 1024 * 1024 // 8
    upload = new_upload(world, len(data)).json()["id"]
    world.app.dependency_overrides[get_settings] = lambda: world.settings.model_copy(
        update={"max_json_body_bytes": 1024}
    )
    assert patch(world, upload, 0, data).status_code == 200


# quotas


def with_settings(world: World, **changes: Any) -> None:
    changed = world.settings.model_copy(update=changes)
    world.app.dependency_overrides[get_settings] = lambda: changed


def test_open_uploads_are_limited_per_user(world: World) -> None:
    with_settings(world, upload_max_open=3)
    made = [new_upload(world, 1000, "ect_b") for _ in range(4)]
    assert [r.status_code for r in made] == [201, 201, 201, 429]
    assert made[-1].json()["code"] == "upload_quota_open"
    assert "Retry-After" in made[-1].headers
    assert new_upload(world, 1000, "mentor").status_code == 201, "another user is not counted"
    first = made[0].json()["id"]
    world.client.delete(f"/api/v1/uploads/{first}", headers=world.auth("ect_b"))
    assert new_upload(world, 1000, "ect_b").status_code == 201


def test_declared_bytes_in_flight_are_limited(world: World) -> None:
    with_settings(world, upload_max_in_flight_bytes=5000)
    assert new_upload(world, 3000, "ect_b").status_code == 201
    r = new_upload(world, 3000, "ect_b")
    assert r.status_code == 429
    assert r.json()["code"] == "upload_quota_in_flight"


def test_storage_quota_per_role(world: World) -> None:
    with_settings(world, storage_quota_bytes=0, storage_quota_bytes_by_role={"ect": 4000})
    assert new_upload(world, 3000, "mentor").status_code == 201, "no quota for mentors"
    r = new_upload(world, 5000, "ect_b")
    assert r.status_code == 413
    assert r.json()["code"] == "upload_quota_storage"
    assert new_upload(world, 3000, "ect_b").status_code == 201


# a full disk


class FullDisk(PartWriter):
    """The upload folder fills after `room` bytes of the next chunk."""

    def __init__(self, room: int) -> None:
        self.room = room

    def write(self, fd: int, data: memoryview) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = os.write(fd, data[: self.room])
        self.room -= n
        return n


def test_a_full_upload_folder_is_507_and_the_offset_stays_true(world: World, media: Media) -> None:
    data = media.video.read_bytes()
    upload = new_upload(world, len(data)).json()["id"]
    assert patch(world, upload, 0, data[:2000]).status_code == 200
    world.app.dependency_overrides[get_part_writer] = lambda: FullDisk(room=500)
    r = patch(world, upload, 2000, data[2000:6000])
    assert r.status_code == 507
    assert "no room" in r.json()["detail"]
    assert r.headers["upload-offset"] == "2000"
    part = world.settings.data_dir / "uploads" / f"{upload}.part"
    assert part.stat().st_size == 2000, "bytes of the refused chunk were left behind"
    head = world.client.head(f"/api/v1/uploads/{upload}", headers=world.auth("ect_a"))
    assert head.headers["upload-offset"] == "2000"
    # room again: the upload carries on from the true offset and makes a lesson
    del world.app.dependency_overrides[get_part_writer]
    assert patch(world, upload, 2000, data[2000:]).status_code == 200
    assert part.read_bytes() == data


def test_a_full_upload_folder_is_507_for_a_one_request_upload_too(
    world: World, media: Media, tmp_path: Path
) -> None:
    """`POST /lessons` with the recording as multipart: the upload folder (a real 1 MiB tmpfs)
    fills while the recording is copied in; the answer is 507 and nothing is left behind."""
    recording = tmp_path / "lesson.mp4"
    recording.write_bytes(media.video.read_bytes() + b"\0" * (2 * 1024 * 1024))
    uploads = world.settings.data_dir / "uploads"

    def post() -> Any:
        with recording.open("rb") as f:
            return world.client.post(
                "/api/v1/lessons",
                headers=world.auth("ect_a"),
                data={"title": "Full disk"},
                files={"file": ("lesson.mp4", f, "video/mp4")},
            )

    before = world.client.get("/api/v1/lessons", headers=world.auth("ect_a")).json()
    with tiny_tmpfs(uploads):
        r = post()
        assert r.status_code == 507, r.text
        assert "no room" in r.json()["detail"]
        assert list(uploads.iterdir()) == [], "bytes of the refused recording were left behind"
    after = world.client.get("/api/v1/lessons", headers=world.auth("ect_a")).json()
    assert after == before
    # room again: the same request makes the lesson
    assert post().status_code == 201


# one chunk at a time


class HeldDisk(PartWriter):
    """Writes normally, but holds the first block of a chunk until released."""

    def __init__(self) -> None:
        self.writing = threading.Event()
        self.release = threading.Event()

    def write(self, fd: int, data: memoryview) -> int:
        self.writing.set()
        self.release.wait(10)
        return os.write(fd, data)


def test_a_second_chunk_at_the_same_offset_is_409_while_one_is_written(
    world: World, media: Media
) -> None:
    data = media.video.read_bytes()[:4000]
    upload = new_upload(world, len(data)).json()["id"]
    held = HeldDisk()
    world.app.dependency_overrides[get_part_writer] = lambda: held
    answers: list[int] = []
    first = threading.Thread(
        target=lambda: answers.append(patch(world, upload, 0, data).status_code)
    )
    first.start()
    try:
        assert held.writing.wait(5)
        r = patch(world, upload, 0, data)
        assert r.status_code == 409
        assert "still arriving" in r.json()["detail"]
    finally:
        held.release.set()
        first.join(15)
    assert answers == [200]
    part = world.settings.data_dir / "uploads" / f"{upload}.part"
    assert part.read_bytes() == data
