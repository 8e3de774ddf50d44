"""Coach batches through HTTP: uploads and allowed server paths in, per-lesson status out, a zip
of the transcripts; path escapes refused; content already processed reused."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from models import queue
from models.account import Role
from models.accounts import create_user, issue_token
from models.audit import AuditEvent
from models.batch import Batch, BatchItem
from models.db import session_scope
from models.lesson import Lesson, LessonStatus
from models.queue import InProcessQueue
from models.settings import get_settings
from models.upload import Upload, part_path
from tests.api.conftest import Media, World

V1 = "/api/v1"


@pytest.fixture
def allowed(tmp_path: Path, media: Media, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "recordings"
    (folder / "spring").mkdir(parents=True)
    (folder / "spring" / "y8 ratio.mp4").write_bytes(media.video.read_bytes())
    (folder / "spring" / "notes.txt").write_text("not a recording")
    (folder / "y9.mp4").write_bytes(media.clip.read_bytes())
    monkeypatch.setenv("CLIPCOACH_BATCH_ALLOWED_DIRS", json.dumps([str(folder)]))
    get_settings.cache_clear()
    return folder


def _upload(world: World, who: str, data: bytes, filename: str) -> str:
    with session_scope(world.settings.database_url) as s:
        up = Upload(owner_id=world.users[who], filename=filename, size=len(data), offset=len(data))
        s.add(up)
        s.flush()
        part_path(world.settings.data_dir, up.id).write_bytes(data)
        return up.id


def _other_coach(world: World) -> dict[str, str]:
    with session_scope(world.settings.database_url) as s:
        user, _ = create_user(s, "coach_b@school.test", "Coach B", Role.coach, "long password 1")
        return {"Authorization": f"Bearer {issue_token(world.settings, user).token}"}


def _submit(world: World, body: dict[str, object], who: str = "coach") -> dict[str, Any]:
    r = world.client.post(f"{V1}/batches", json=body, headers=world.auth(who))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_coach_submits_uploads_and_allowed_paths_and_watches_them(
    world: World, inline_queue: InProcessQueue, media: Media, allowed: Path
) -> None:
    upload = _upload(world, "coach", media.video.read_bytes()[::-1] + b"x", "bad.mp4")
    good = _upload(world, "coach", media.clip.read_bytes() + b"\0", "clip.mp4")
    batch = _submit(
        world,
        {
            "name": "Spring",
            "upload_ids": [upload, good],
            "paths": [str(allowed / "spring"), str(allowed / "y9.mp4")],
        },
    )
    inline_queue.join()
    items = batch["items"]
    assert isinstance(items, list)
    assert [i["source_name"] for i in items] == [
        "bad.mp4",
        "clip.mp4",
        "notes.txt",
        "y8 ratio.mp4",
        "y9.mp4",
    ]
    assert items[0]["error_code"] == items[2]["error_code"] == "not_a_recording"
    assert items[0]["lesson_id"] is None and items[0]["status"] == "failed"
    # uploads are used up either way
    with session_scope(world.settings.database_url) as s:
        assert (
            s.scalar(select(func.count()).select_from(Upload).where(Upload.id.in_([upload, good])))
            == 0
        )
        owners = {s.get(Lesson, i["lesson_id"]).owner_id for i in items if i["lesson_id"]}  # type: ignore[union-attr]
    assert owners == {world.users["coach"]}
    sent = [args[0] for name, args in inline_queue.sent if name == queue.PROCESS_LESSON]
    assert len(sent) == 3

    r = world.client.get(f"{V1}/batches/{batch['id']}", headers=world.auth("coach"))
    assert r.status_code == 200
    detail = r.json()
    assert detail["counts"] == {"total": 5, "queued": 0, "processing": 0, "ready": 3, "failed": 2}
    assert detail["finished"] is True
    for item in detail["items"][1:2] + detail["items"][3:]:
        assert (item["status"], item["progress"]) == ("ready", 100)
    listed = world.client.get(f"{V1}/batches", headers=world.auth("coach")).json()
    assert [b["id"] for b in listed] == [batch["id"]] and listed[0]["counts"]["ready"] == 3

    lesson_id = detail["items"][1]["lesson_id"]
    assert (
        world.client.get(f"{V1}/lessons/{lesson_id}", headers=world.auth("coach")).status_code
        == 200
    )
    other = _other_coach(world)
    assert world.client.get(f"{V1}/batches/{batch['id']}", headers=other).status_code == 404
    assert world.client.get(f"{V1}/lessons/{lesson_id}", headers=other).status_code == 404
    assert world.client.get(f"{V1}/batches", headers=other).json() == []
    for who in ("mentor", "ect_a", "admin"):
        assert (
            world.client.get(f"{V1}/batches/{batch['id']}", headers=world.auth(who)).status_code
            == 404
        )
        assert world.client.get(
            f"{V1}/lessons/{lesson_id}", headers=world.auth(who)
        ).status_code == (200 if who == "admin" else 404)
    r = world.client.post(
        f"{V1}/batches", json={"paths": [str(allowed)]}, headers=world.auth("ect_a")
    )
    assert r.status_code == 403


def test_paths_that_escape_the_allowed_folders_are_refused(
    world: World, inline_queue: InProcessQueue, media: Media, allowed: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(media.clip.read_bytes())
    (allowed / "link.mp4").symlink_to(outside / "secret.mp4")
    (allowed / "spring" / "out").symlink_to(outside)
    cases = {
        str(allowed / ".." / "private" / "secret.mp4"): 403,
        str(allowed / "link.mp4"): 403,
        str(allowed / "spring" / "out"): 403,
        str(outside / "secret.mp4"): 403,
        "/etc/passwd": 403,
        "recordings/y9.mp4": 422,
        str(allowed / "missing.mp4"): 422,
    }
    for path, expected in cases.items():
        r = world.client.post(
            f"{V1}/batches",
            json={"paths": [str(allowed / "y9.mp4"), path]},
            headers=world.auth("coach"),
        )
        assert r.status_code == expected, (path, r.text)
        assert isinstance(r.json()["detail"], str | list)
    r = world.client.post(
        f"{V1}/batches", json={"paths": ["/etc/passwd"]}, headers=world.auth("coach")
    )
    assert "outside the folders allowed" in r.json()["detail"]
    with session_scope(world.settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(Batch)) == 0
        assert s.scalar(select(func.count()).select_from(Lesson)) == 2  # the world's two
    assert inline_queue.sent == []


def test_no_paths_at_all_unless_an_admin_allowed_a_folder(
    world: World, inline_queue: InProcessQueue
) -> None:
    r = world.client.post(f"{V1}/batches", json={"paths": ["/tmp"]}, headers=world.auth("coach"))
    assert r.status_code == 403 and "CLIPCOACH_BATCH_ALLOWED_DIRS" in r.json()["detail"]
    assert (
        world.client.post(f"{V1}/batches", json={}, headers=world.auth("coach")).status_code == 422
    )


def test_content_already_processed_is_reused(
    world: World, inline_queue: InProcessQueue, allowed: Path
) -> None:
    first = _submit(world, {"paths": [str(allowed / "y9.mp4")]})
    inline_queue.join()
    copy = allowed / "spring" / "y9 again.mp4"
    copy.write_bytes((allowed / "y9.mp4").read_bytes())
    second = _submit(world, {"paths": [str(copy), str(allowed / "y9.mp4")]})
    inline_queue.join()
    lesson = first["items"][0]["lesson_id"]  # type: ignore[index]
    assert [(i["lesson_id"], i["reused"]) for i in second["items"]] == [
        (lesson, True),
        (lesson, True),
    ]  # type: ignore[union-attr]
    assert len([n for n, _ in inline_queue.sent if n == queue.PROCESS_LESSON]) == 1
    # another coach's lesson with the same content is not theirs to reuse
    other = _other_coach(world)
    r = world.client.post(f"{V1}/batches", json={"paths": [str(copy)]}, headers=other)
    assert r.status_code == 201 and r.json()["items"][0]["reused"] is False


def test_transcripts_zip_has_safe_names_and_a_manifest_of_failures(
    world: World, inline_queue: InProcessQueue, media: Media, allowed: Path
) -> None:
    evil = _upload(world, "coach", media.clip.read_bytes() + b"\1", "../../etc/.bashrc\\..\\x?.mp4")
    batch = _submit(world, {"upload_ids": [evil], "paths": [str(allowed / "spring")]})
    inline_queue.join()
    r = world.client.get(
        f"{V1}/batches/{batch['id']}/transcripts.zip?formats=vtt,json", headers=world.auth("coach")
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = sorted(archive.namelist())
    assert names == ["manifest.json", "x_.json", "x_.vtt", "y8 ratio.json", "y8 ratio.vtt"]
    for name in names:
        assert (
            "/" not in name and "\\" not in name and ".." not in name and not name.startswith(".")
        )
    assert archive.read("y8 ratio.vtt").startswith(b"WEBVTT")
    assert json.loads(archive.read("x_.json"))["segments"]
    manifest = json.loads(archive.read("manifest.json"))
    assert [f["source"] for f in manifest["failures"]] == ["notes.txt"]
    assert manifest["failures"][0]["error_code"] == "not_a_recording"
    assert sorted(e["source"] for e in manifest["lessons"]) == [
        "../../etc/.bashrc\\..\\x?.mp4",
        "y8 ratio.mp4",
    ]
    bad = world.client.get(
        f"{V1}/batches/{batch['id']}/transcripts.zip?formats=vtt,exe", headers=world.auth("coach")
    )
    assert bad.status_code == 422


def test_a_coach_sees_lessons_in_their_batches_by_the_access_rule(
    world: World, inline_queue: InProcessQueue
) -> None:
    """The rule itself: a lesson in the coach's batch is visible to them although not theirs."""
    lesson_b = world.ids["lesson_b"]
    url = f"{V1}/lessons/{lesson_b}"
    assert world.client.get(url, headers=world.auth("coach")).status_code == 404
    with session_scope(world.settings.database_url) as s:
        batch = Batch(owner_id=world.users["coach"], name="research")
        s.add(batch)
        s.flush()
        s.add(BatchItem(batch_id=batch.id, position=0, source_name="b.mp4", lesson_id=lesson_b))
    assert world.client.get(url, headers=world.auth("coach")).status_code == 200
    assert world.client.get(url, headers=_other_coach(world)).status_code == 404
    ids = {
        lesson["id"]
        for lesson in world.client.get(f"{V1}/lessons", headers=world.auth("coach")).json()
    }
    assert ids == {lesson_b}


def test_the_coachs_page_lists_the_allowed_folders_and_their_files(
    world: World, allowed: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(b"x")
    (allowed / "out").symlink_to(outside)
    (allowed / ".hidden").mkdir()
    (allowed / "spring" / ".DS_Store").write_bytes(b"x")
    r = world.client.get(f"{V1}/batches/folders", headers=world.auth("coach"))
    assert r.status_code == 200, r.text
    folders = {f["path"]: f for f in r.json()}
    root, spring = str(allowed.resolve()), str((allowed / "spring").resolve())
    assert list(folders) == [root, spring]  # the link out and the hidden folder are not offered
    assert [f["name"] for f in folders[spring]["files"]] == ["notes.txt", "y8 ratio.mp4"]
    assert folders[root]["file_count"] == 1
    assert folders[root]["files"][0] == {
        "name": "y9.mp4",
        "size": (allowed / "y9.mp4").stat().st_size,
    }
    # a listed folder is exactly what a batch of it takes
    batch = _submit(world, {"paths": [spring]})
    assert [i["source_name"] for i in batch["items"]] == ["notes.txt", "y8 ratio.mp4"]
    for who in ("ect_a", "mentor"):
        assert world.client.get(f"{V1}/batches/folders", headers=world.auth(who)).status_code == 403
    assert world.client.get(f"{V1}/batches/folders", headers=world.auth("admin")).status_code == 200


def test_no_folders_are_listed_unless_an_admin_allowed_some(world: World) -> None:
    r = world.client.get(f"{V1}/batches/folders", headers=world.auth("coach"))
    assert r.status_code == 200 and r.json() == []


def _fail(world: World, lesson_id: str) -> None:
    with session_scope(world.settings.database_url) as s:
        lesson = s.get(Lesson, lesson_id)
        assert lesson is not None
        lesson.status, lesson.stage, lesson.progress = LessonStatus.failed, "probe", 10
        lesson.error_code, lesson.error_message = "no_space", "No space left on device"


def test_retry_processes_only_the_failed_lessons_again_once(
    world: World, inline_queue: InProcessQueue, media: Media
) -> None:
    uploads = [
        _upload(world, "coach", b"not a recording at all", "notes.txt"),
        _upload(world, "coach", media.clip.read_bytes(), "a.mp4"),
        _upload(world, "coach", media.clip.read_bytes() + b"\0", "b.mp4"),
    ]
    batch = _submit(world, {"name": "Spring", "upload_ids": uploads})
    inline_queue.join()
    failed, ready = batch["items"][1]["lesson_id"], batch["items"][2]["lesson_id"]
    _fail(world, failed)
    sent_before = len(inline_queue.sent)
    url = f"{V1}/batches/{batch['id']}/retry"

    r = world.client.post(url, headers=world.auth("coach"))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["retried"] == 1
    states = [(i["status"], i["error_code"]) for i in body["items"]]
    # the in-process queue may already have run the retried lesson by the time the answer is
    # built, so it reads queued, processing or ready; it no longer reads failed
    assert states[0] == ("failed", "not_a_recording")
    assert states[1][0] in {"queued", "processing", "ready"}
    assert states[1][1] is None
    assert states[2] == ("ready", None)
    assert inline_queue.sent[sent_before:] == [(queue.PROCESS_LESSON, (failed,))]
    # a second click while the first is under way, or after it: nothing changes
    again = world.client.post(url, headers=world.auth("coach"))
    assert again.status_code == 409
    assert again.json()["code"] == "nothing_to_retry"
    assert "never became a lesson" in again.json()["detail"]
    inline_queue.join()
    assert len(inline_queue.sent) == sent_before + 1
    detail = world.client.get(f"{V1}/batches/{batch['id']}", headers=world.auth("coach")).json()
    assert detail["counts"] == {"total": 3, "queued": 0, "processing": 0, "ready": 2, "failed": 1}
    with session_scope(world.settings.database_url) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "batch.retry")).all()
        assert [(e.object_id, e.detail["lessons"]) for e in events] == [(batch["id"], [failed])]
        assert s.get(Lesson, ready).status == LessonStatus.ready  # type: ignore[union-attr]
    # not the submitter: the batch does not exist for them
    for who in ("ect_a", "mentor", "admin"):
        assert world.client.post(url, headers=world.auth(who)).status_code == 404
    assert world.client.post(url, headers=_other_coach(world)).status_code == 404
    assert (
        world.client.post(f"{V1}/batches/{'0' * 32}/retry", headers=world.auth("coach")).status_code
        == 404
    )


def test_retry_of_a_batch_where_nothing_failed_is_a_conflict(
    world: World, inline_queue: InProcessQueue, media: Media
) -> None:
    batch = _submit(
        world, {"upload_ids": [_upload(world, "coach", media.clip.read_bytes(), "a.mp4")]}
    )
    inline_queue.join()
    r = world.client.post(f"{V1}/batches/{batch['id']}/retry", headers=world.auth("coach"))
    assert r.status_code == 409
    assert r.json()["detail"] == "Nothing in this batch can be processed again: no item has failed."
