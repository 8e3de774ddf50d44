"""Bad input gets the right status and a clear detail, and leaves no record or file behind."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from models import queue
from models.audit import AuditEvent
from models.coaching import Clip
from models.db import session_scope
from models.lesson import Lesson
from models.queue import InProcessQueue
from models.upload import Upload
from tests.api.conftest import CHUNK_MAX, MAX_UPLOAD, Media, World, asgi_request
from tests.mediafactory import make_image, write_pdf, write_text


def count(world: World, model: type[Any]) -> int:
    with session_scope(world.settings.database_url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def stray_files(world: World) -> list[Path]:
    """Files in the uploads folder besides the world's own unfinished upload."""
    folder = world.settings.data_dir / "uploads"
    keep = f"{world.ids['upload_a']}.part"
    return [p for p in folder.iterdir() if p.name != keep] if folder.exists() else []


def storage_keys(world: World) -> set[str]:
    return set(world.storage.list_keys("lessons"))


# JSON and ids


def test_malformed_json_is_422_and_creates_nothing(world: World) -> None:
    before = count(world, Clip)
    for path in ("/api/v1/clips", "/api/v1/lessons", "/api/v1/uploads"):
        r = world.client.post(
            path,
            content=b'{"lesson_id": "x", "start": 1,',
            headers={**world.auth("mentor"), "Content-Type": "application/json"},
        )
        assert r.status_code == 422, (path, r.text)
        assert r.json()["detail"], path
    assert count(world, Clip) == before
    r = world.client.post(
        "/api/v1/clips",
        content=b'{"title": "\xff\xfe"}',
        headers={**world.auth("mentor"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert "not valid JSON" in r.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "what"),
    [
        ("GET", "/api/v1/lessons/0123456789abcdef0123456789abcdef", "lesson not found"),
        ("GET", "/api/v1/lessons/nope/media", "lesson not found"),
        ("GET", "/api/v1/clips/nope", "clip not found"),
        ("GET", "/api/v1/uploads/nope", "upload not found"),
        ("DELETE", "/api/v1/admin/pairings/nope", "pairing not found"),
        ("GET", "/api/v1/frameworks/nope/strands", "framework not found"),
    ],
)
def test_unknown_ids_are_404_with_a_detail(world: World, method: str, path: str, what: str) -> None:
    r = world.client.request(
        method, path, headers=world.auth("admin" if "admin" in path else "mentor")
    )
    assert r.status_code == 404
    assert r.json() == {"detail": what, "code": what.replace(" ", "_")}


def test_clip_of_an_unknown_lesson_is_404(world: World) -> None:
    r = world.client.post(
        "/api/v1/clips",
        headers=world.auth("mentor"),
        json={"lesson_id": "nope", "start": 1, "end": 2},
    )
    assert r.status_code == 404
    assert r.json() == {"detail": "lesson not found", "code": "lesson_not_found"}


# clip ranges


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"start": 4.0, "end": 9.0}, "inside the lesson"),
        ({"start": 2.0, "end": 2.0}, "start before it ends"),
        ({"start": 3.0, "end": 2.0}, "start before it ends"),
        ({"start": 2.0, "end": 2.4}, "at least 1 s"),
        ({"word_start": 5, "word_end": 500}, "outside the transcript"),
        ({"word_start": 5, "word_end": 4}, "outside the transcript"),
        ({"word_start": 3, "word_end": 3}, "at least 1 s"),
    ],
)
def test_clip_ranges_are_checked(world: World, body: dict[str, float], expected: str) -> None:
    before = count(world, Clip)
    r = world.client.post(
        "/api/v1/clips",
        headers=world.auth("mentor"),
        json={"lesson_id": world.ids["lesson_a"], **body},
    )
    assert r.status_code == 422, r.text
    assert expected in r.json()["detail"]
    assert count(world, Clip) == before


def test_clip_needs_one_way_of_giving_its_range(world: World) -> None:
    for body in ({}, {"start": 1}, {"start": 1, "end": 2, "word_start": 0, "word_end": 3}):
        r = world.client.post(
            "/api/v1/clips",
            headers=world.auth("mentor"),
            json={"lesson_id": world.ids["lesson_a"], **body},
        )
        assert r.status_code == 422
        assert isinstance(r.json()["detail"], list)


def test_clip_edit_outside_the_lesson_is_refused(world: World) -> None:
    url = f"/api/v1/clips/{world.ids['clip_draft']}"
    r = world.client.patch(url, headers=world.auth("mentor"), json={"end": 60})
    assert r.status_code == 422
    assert world.client.get(url, headers=world.auth("mentor")).json()["end"] == 3.0


def test_comment_beyond_the_clip_and_share_in_the_past(world: World) -> None:
    clip = world.ids["clip_draft"]
    r = world.client.post(
        f"/api/v1/clips/{clip}/comments", headers=world.auth("mentor"), json={"at": 30, "body": "x"}
    )
    assert r.status_code == 422
    assert "clip is 2.00 s long" in r.json()["detail"]
    r = world.client.post(
        f"/api/v1/clips/{clip}/shares",
        headers=world.auth("mentor"),
        json={"until": "2001-01-01T00:00:00Z"},
    )
    assert r.status_code == 422
    assert "future" in r.json()["detail"]
    r = world.client.post(
        f"/api/v1/clips/{clip}/tags",
        headers=world.auth("mentor"),
        json={"strand_ids": ["ecf-2019:2a", "made-up"]},
    )
    assert r.status_code == 422
    assert "made-up" in r.json()["detail"]


# chunked uploads


def new_upload(world: World, data: bytes, sha256: str | None = None) -> str:
    body: dict[str, Any] = {"filename": "lesson.mp4", "size": len(data)}
    if sha256:
        body["sha256"] = sha256
    r = world.client.post("/api/v1/uploads", headers=world.auth("ect_a"), json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def patch(world: World, upload_id: str, offset: int, data: bytes):  # type: ignore[no-untyped-def]
    return world.client.patch(
        f"/api/v1/uploads/{upload_id}",
        headers={**world.auth("ect_a"), "Upload-Offset": str(offset)},
        content=data,
    )


def test_chunk_at_a_wrong_offset_is_409_with_the_current_offset(world: World, media: Media) -> None:
    data = media.video.read_bytes()
    upload = new_upload(world, data)
    assert patch(world, upload, 0, data[:1000]).status_code == 200
    for wrong in (0, 500, 2000):
        r = patch(world, upload, wrong, data[wrong : wrong + 1000])
        assert r.status_code == 409
        assert "current offset is 1000" in r.json()["detail"]
        assert r.headers["upload-offset"] == "1000"
    r = world.client.head(f"/api/v1/uploads/{upload}", headers=world.auth("ect_a"))
    assert r.headers["upload-offset"] == "1000"
    assert (world.settings.data_dir / "uploads" / f"{upload}.part").stat().st_size == 1000


def test_checksum_mismatch_discards_the_upload(world: World, media: Media) -> None:
    data = media.video.read_bytes()
    upload = new_upload(world, data, sha256=hashlib.sha256(b"something else").hexdigest())
    r = patch(world, upload, 0, data)
    assert r.status_code == 422
    assert "checksum does not match" in r.json()["detail"]
    assert (
        world.client.head(f"/api/v1/uploads/{upload}", headers=world.auth("ect_a")).status_code
        == 404
    )
    assert stray_files(world) == []
    before = count(world, Lesson)
    r = world.client.post(
        "/api/v1/lessons", headers=world.auth("ect_a"), json={"upload_id": upload}
    )
    assert r.status_code == 404
    assert count(world, Lesson) == before


def test_matching_checksum_and_a_lesson_from_the_upload(
    world: World, media: Media, inline_queue: InProcessQueue
) -> None:
    data = media.video.read_bytes()
    upload = new_upload(world, data, sha256=hashlib.sha256(data).hexdigest().upper())
    offset = 0
    while offset < len(data):
        r = patch(world, upload, offset, data[offset : offset + CHUNK_MAX])
        assert r.status_code == 200, r.text
        offset = r.json()["offset"]
    r = world.client.post(
        "/api/v1/lessons",
        headers=world.auth("ect_a"),
        json={"upload_id": upload, "title": "Fractions"},
    )
    assert r.status_code == 201, r.text
    lesson = r.json()
    assert lesson["title"] == "Fractions"
    assert (("clipcoach.lesson.process", (lesson["id"],))) in inline_queue.sent
    assert f"lessons/{lesson['id']}/source.mp4" in storage_keys(world)
    assert stray_files(world) == []


def test_oversized_uploads_are_refused_early(world: World) -> None:
    before = count(world, Upload)
    r = world.client.post(
        "/api/v1/uploads",
        headers=world.auth("ect_a"),
        json={"filename": "big.mp4", "size": MAX_UPLOAD + 1},
    )
    assert r.status_code == 413
    assert "accepts up to" in r.json()["detail"]
    assert count(world, Upload) == before

    # a chunk larger than chunks may be, announced by Content-Length: refused before reading
    upload = new_upload(world, b"x" * (CHUNK_MAX + 10))
    r = patch(world, upload, 0, b"\0" * (CHUNK_MAX + 10))
    assert r.status_code == 413
    assert "at most" in r.json()["detail"]

    # a streamed chunk (no Content-Length) that runs past the declared size: stopped at once
    small = new_upload(world, b"x" * 1000)
    status, body, pulled = asgi_request(
        world,
        "PATCH",
        f"/api/v1/uploads/{small}",
        {**world.auth("ect_a"), "Upload-Offset": "0"},
        (b"\0" * 65536 for _ in range(50)),
    )
    assert status == 413
    assert b"past the declared size" in body
    assert pulled == 1
    assert (world.settings.data_dir / "uploads" / f"{small}.part").stat().st_size == 0


def test_oversized_multipart_is_refused_without_reading_the_rest(world: World) -> None:
    lessons, keys = count(world, Lesson), storage_keys(world)
    # declared: refused from the headers alone
    status, body, pulled = asgi_request(
        world,
        "POST",
        "/api/v1/lessons",
        {
            **world.auth("ect_a"),
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(MAX_UPLOAD * 3),
        },
        (b"\0" * 65536 for _ in range(300)),
    )
    assert status == 413
    assert pulled == 0
    # streamed without a length: refused when the limit is passed, the rest never read
    boundary = "cut"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    total = (MAX_UPLOAD * 2) // 65536
    chunks = [head, *(b"\0" * 65536 for _ in range(total))]
    status, body, pulled = asgi_request(
        world,
        "POST",
        "/api/v1/lessons",
        {**world.auth("ect_a"), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        chunks,
    )
    assert status == 413, body
    assert b"larger than this server accepts" in body
    assert pulled < total * 0.7
    assert count(world, Lesson) == lessons
    assert storage_keys(world) == keys
    assert stray_files(world) == []


# content, not names


@pytest.mark.parametrize(
    ("maker", "reason"),
    [
        (write_pdf, "PDF document"),
        (write_text, "text"),
        (make_image, "JPEG picture"),
        (lambda p: p.write_bytes(b""), "empty"),
    ],
)
def test_wrong_content_with_a_video_name_is_415(
    world: World, tmp_path: Path, maker: Any, reason: str, inline_queue: InProcessQueue
) -> None:
    fake = tmp_path / "lesson.mp4"
    maker(fake)
    lessons, keys = count(world, Lesson), storage_keys(world)
    with fake.open("rb") as handle:
        r = world.client.post(
            "/api/v1/lessons",
            headers=world.auth("ect_a"),
            files={"file": ("lesson.mp4", handle, "video/mp4")},
        )
    assert r.status_code == 415, r.text
    assert reason in r.json()["detail"]
    assert count(world, Lesson) == lessons
    assert storage_keys(world) == keys
    assert stray_files(world) == []
    assert inline_queue.sent == []


def test_wrong_content_in_a_chunked_upload_is_refused_at_the_first_chunk(
    world: World, tmp_path: Path
) -> None:
    pdf = tmp_path / "notes.mp4"
    write_pdf(pdf)
    data = pdf.read_bytes() * 50
    upload = new_upload(world, data)
    r = patch(world, upload, 0, data[:1024])
    assert r.status_code == 415
    assert "PDF" in r.json()["detail"]
    assert (
        world.client.get(f"/api/v1/uploads/{upload}", headers=world.auth("ect_a")).status_code
        == 404
    )
    assert stray_files(world) == []


def test_storage_key_is_generated_whatever_the_name(
    world: World, media: Media, inline_queue: InProcessQueue
) -> None:
    name = "../../etc/passwd — Année 7.mov"
    with media.video.open("rb") as handle:
        r = world.client.post(
            "/api/v1/lessons",
            headers=world.auth("ect_a"),
            files={"file": (name, handle, "application/octet-stream")},
            data={"title": "", "transcribe": "false"},
        )
    assert r.status_code == 201, r.text
    lesson = r.json()
    assert lesson["source_filename"] == name
    assert lesson["title"] == "passwd — Année 7"
    assert lesson["transcribe"] is False
    assert f"lessons/{lesson['id']}/source.mp4" in storage_keys(world)

    # the chunked way keeps any name as display text too, quotes and all
    quoted = "..\\\"quoted\" 'name'.avi"
    data = media.video.read_bytes()
    r = world.client.post(
        "/api/v1/uploads", headers=world.auth("ect_a"), json={"filename": quoted, "size": len(data)}
    )
    upload = r.json()["id"]
    assert patch(world, upload, 0, data).status_code == 200
    r = world.client.post(
        "/api/v1/lessons", headers=world.auth("ect_a"), json={"upload_id": upload}
    )
    assert r.status_code == 201, r.text
    assert r.json()["source_filename"] == quoted
    assert f"lessons/{r.json()['id']}/source.mp4" in storage_keys(world)
    assert not any(
        "passwd" in str(p) or "quoted" in str(p) for p in world.settings.data_dir.rglob("*")
    )


def test_an_audio_recording_is_accepted_by_its_content(
    world: World, tmp_path: Path, inline_queue: InProcessQueue
) -> None:
    from tests.mediafactory import make_tone

    audio = tmp_path / "lesson.mp4"  # really MP3 bytes under a video name
    make_tone(tmp_path / "tone.mp3", acodec="mp3")
    audio.write_bytes((tmp_path / "tone.mp3").read_bytes())
    with audio.open("rb") as handle:
        r = world.client.post(
            "/api/v1/lessons", headers=world.auth("ect_a"), files={"file": ("lesson.mp4", handle)}
        )
    assert r.status_code == 201, r.text
    assert f"lessons/{r.json()['id']}/source.mp3" in storage_keys(world)


# lesson states


def _set(world: World, lesson_key: str, **values: Any) -> None:
    with session_scope(world.settings.database_url) as session:
        lesson = session.get(Lesson, world.ids[lesson_key])
        assert lesson is not None
        for name, value in values.items():
            setattr(lesson, name, value)


def test_transcript_of_a_recording_without_sound_says_so(world: World) -> None:
    world.storage.delete(f"lessons/{world.ids['lesson_a']}/transcript.json")
    _set(world, "lesson_a", has_audio=False)
    r = world.client.get(
        f"/api/v1/lessons/{world.ids['lesson_a']}/transcript", headers=world.auth("ect_a")
    )
    assert r.status_code == 409
    assert r.json() == {"detail": "This recording has no sound, so it has no transcript."}


def test_before_ready_and_after_failure_the_detail_says_why(world: World) -> None:
    world.storage.delete_prefix(f"lessons/{world.ids['lesson_a']}")
    _set(world, "lesson_a", status="processing", stage="transcribe", progress=40, media_key=None)
    url = f"/api/v1/lessons/{world.ids['lesson_a']}"
    for part in ("transcript?format=vtt", "segments", "media", "thumbnails.vtt", "poster.jpg"):
        r = world.client.get(f"{url}/{part}", headers=world.auth("ect_a"))
        assert r.status_code == 404, part
        assert "not ready yet" in r.json()["detail"]
        assert "stage transcribe, 40%" in r.json()["detail"]
    clip = {"lesson_id": world.ids["lesson_a"], "start": 1, "end": 2}
    r = world.client.post("/api/v1/clips", headers=world.auth("mentor"), json=clip)
    assert r.status_code == 409
    _set(
        world,
        "lesson_a",
        status="failed",
        error_code="not_media",
        error_message="The file is not a recording.",
    )
    detail = world.client.get(url, headers=world.auth("ect_a")).json()
    assert (detail["status"], detail["error_code"]) == ("failed", "not_media")
    r = world.client.get(f"{url}/transcript", headers=world.auth("ect_a"))
    assert r.status_code == 404
    assert "Processing failed" in r.json()["detail"]
    assert "not_media" in r.json()["detail"]


def test_a_failed_lesson_can_be_retried_by_its_owner(
    world: World, inline_queue: InProcessQueue
) -> None:
    """Retry starts processing again and is audited; a lesson that did not fail is 409."""
    url = f"/api/v1/lessons/{world.ids['lesson_a']}"
    r = world.client.post(f"{url}/retry", headers=world.auth("ect_a"))
    assert r.status_code == 409
    assert "failed" in r.json()["detail"]
    _set(world, "lesson_a", status="failed", error_code="ffmpeg_failed", error_message="x")
    r = world.client.post(f"{url}/retry", headers=world.auth("ect_a"))
    assert r.status_code == 202, r.text
    assert (r.json()["status"], r.json()["error_code"]) == ("queued", None)
    assert inline_queue.sent == [(queue.PROCESS_LESSON, (world.ids["lesson_a"],))]
    inline_queue.join()
    assert world.client.get(url, headers=world.auth("ect_a")).json()["status"] == "ready"
    with session_scope(world.settings.database_url) as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "lesson.retry"))


def test_transcript_formats(world: World) -> None:
    url = f"/api/v1/lessons/{world.ids['lesson_a']}/transcript"
    expected = {
        "json": "application/json",
        "vtt": "text/vtt",
        "srt": "application/x-subrip",
        "txt": "text/plain",
    }
    for fmt, media_type in expected.items():
        r = world.client.get(url, params={"format": fmt}, headers=world.auth("ect_a"))
        assert r.status_code == 200
        assert r.headers["content-type"].startswith(media_type)
    assert (
        world.client.get(url, params={"format": "doc"}, headers=world.auth("ect_a")).status_code
        == 422
    )


def test_thumbnail_track_points_at_the_api(world: World) -> None:
    lesson = world.ids["lesson_a"]
    r = world.client.get(f"/api/v1/lessons/{lesson}/thumbnails.vtt", headers=world.auth("ect_a"))
    assert r.status_code == 200
    assert f"/api/v1/lessons/{lesson}/sprite.jpg#xywh=0,0,160,90" in r.text
    sprite = world.client.get(f"/api/v1/lessons/{lesson}/sprite.jpg", headers=world.auth("ect_a"))
    assert sprite.headers["content-type"] == "image/jpeg"


def test_media_answers_range_requests(world: World) -> None:
    url = f"/api/v1/lessons/{world.ids['lesson_a']}/media"
    size = len(world.client.get(url, headers=world.auth("ect_a")).content)
    r = world.client.get(url, headers={**world.auth("ect_a"), "Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes 100-199/{size}"
    assert len(r.content) == 100
    r = world.client.get(url, headers={**world.auth("ect_a"), "Range": f"bytes={size + 10}-"})
    assert r.status_code == 416


def test_media_redirects_when_storage_presigns(world: World) -> None:
    from datetime import timedelta

    from api.deps import get_storage
    from models.storage import LocalStorage

    class Presigning(LocalStorage):
        def presigned_get_url(self, key: str, expires: timedelta) -> str | None:
            return f"https://store.school.test/{key}?sig=abc"

    world.app.dependency_overrides[get_storage] = lambda: Presigning(
        world.settings.data_dir / "storage"
    )
    url = f"/api/v1/lessons/{world.ids['lesson_a']}/media"
    r = world.client.get(url, headers=world.auth("ect_a"), follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"].startswith("https://store.school.test/lessons/")


def test_deleting_a_lesson_removes_its_files(world: World) -> None:
    lesson = world.ids["lesson_a"]
    assert world.storage.list_keys(f"lessons/{lesson}")
    r = world.client.delete(f"/api/v1/lessons/{lesson}", headers=world.auth("ect_a"))
    assert r.status_code == 204
    assert world.storage.list_keys(f"lessons/{lesson}") == []
    with session_scope(world.settings.database_url) as session:
        assert session.get(Clip, world.ids["clip_shared"]) is None
    assert world.storage.list_keys(f"lessons/{world.ids['lesson_b']}")
