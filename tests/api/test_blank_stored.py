"""Blanking the stored lesson over HTTP (issue 17 point 4): adding a blank sends the blank worker
(run in-process), which rewrites the stored source, browser copy and transcripts. Decoded and
checked: black picture and silence in the range of the stored MP4, the words said in it gone
from the transcript API and from search, clip and comment times unchanged, the blank `applied`
and no longer removable; on local disk and on S3 (seaweedfs). Refusals and failures too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from models import queue
from models.audit import AuditEvent
from models.blanks import BlankStatus, LessonBlank
from models.db import session_scope
from models.lesson import Lesson, LessonStatus
from models.queue import InProcessQueue
from models.settings import Settings, get_settings
from models.storage import Storage, open_storage
from models.transcription import TranscriptVersion
from tests.api.conftest import World, use_queue
from tests.mediafactory import frame_lumas, loudness
from tests.services import s3_server, s3_url  # noqa: F401 - the S3 case's fixtures

V1 = "/api/v1"
START, END = 1.5, 2.5
GONE = ("we", "are", "looking", "at")
"""Said between 1.5 and 2.5 s in the world's transcript (tests/api/conftest.py WORDS)."""


def _blank_worker(world: World, settings: Settings, storage: Storage) -> InProcessQueue:
    from workers.blank_tasks import apply_blanks

    def blank(lesson_id: str) -> None:  # a handler's result is dropped: say so to mypy
        apply_blanks(settings, storage, lesson_id, "run-1")

    tasks = InProcessQueue({queue.BLANK_LESSON: blank})
    use_queue(world.app, tasks)
    return tasks


def _blank(world: World, lesson: str, who: str = "mentor") -> dict[str, object]:
    made = world.client.post(
        f"{V1}/lessons/{lesson}/blanks", json={"start": START, "end": END}, headers=world.auth(who)
    )
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "pending"
    return dict(made.json())


def _check_stored_lesson(world: World, storage: Storage, tmp_path: Path) -> None:
    """What every backend must show once the blank is applied."""
    w = world
    lesson, clip = w.ids["lesson_a"], w.ids["clip_shared"]
    listed = w.client.get(f"{V1}/lessons/{lesson}/blanks", headers=w.auth("ect_a")).json()
    assert [(b["status"], b["error_code"]) for b in listed] == [("applied", None)]
    assert listed[0]["applied_at"] is not None

    with session_scope(w.settings.database_url) as s:
        row = s.get(Lesson, lesson)
        assert row is not None and row.media_key is not None
        media_key, source_key = row.media_key, row.source_key
    for key in (media_key, source_key):  # the browser copy and the source, replaced
        path = tmp_path / key.replace("/", "_")
        storage.get_file(key, path)
        frames = frame_lumas(path)
        inside = [luma for t, luma in frames if START + 0.04 <= t < END - 0.04]
        outside = [luma for t, luma in frames if t < START - 0.04 or t >= END + 0.04]
        assert len(inside) >= 20 and len(outside) >= 50, key
        assert max(inside) < 20 and min(outside) > 40, key
        quiet, before, after = loudness(path, [(1.55, 2.45), (0.5, 1.4), (2.6, 3.5)])
        assert quiet < 1e-3 and before > 0.01 and after > 0.01, key
    assert not [k for k in storage.list_keys(f"lessons/{lesson}") if ".blanked" in k]

    doc = w.client.get(f"{V1}/lessons/{lesson}/transcript?format=json", headers=w.auth("mentor"))
    assert doc.status_code == 200, doc.text
    words = [word for seg in doc.json()["segments"] for word in seg["words"]]
    assert words and not [x for x in words if x["start"] < END and x["end"] > START]
    texts = [x["text"].strip(".").lower() for x in words]
    assert "today" in texts and "equivalent" in texts  # either side of the range: kept
    assert not set(GONE) & set(texts)
    for fmt in ("txt", "vtt"):
        text = w.client.get(
            f"{V1}/lessons/{lesson}/transcript?format={fmt}", headers=w.auth("mentor")
        )
        spoken = f" {text.text} ".replace("\n", " ").lower()
        assert " looking " not in spoken and " equivalent " in spoken, fmt

    for word, found in (("looking", False), ("equivalent", True)):
        hits = w.client.get(f"{V1}/search", params={"q": word}, headers=w.auth("mentor")).json()
        assert any(h["lesson_id"] == lesson for h in hits) is found, word

    got = w.client.get(f"{V1}/clips/{clip}", headers=w.auth("mentor")).json()
    assert (got["start"], got["end"]) == (1.0, 3.0)  # clips keep their times
    comments = w.client.get(f"{V1}/clips/{clip}/comments", headers=w.auth("mentor")).json()
    assert [c["at"] for c in comments] == [0.5]

    with session_scope(w.settings.database_url) as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "lesson.blank_applied")
        ).one()
        assert event.object_id == lesson and event.detail["ranges"] == [[START, END]]
        assert "looking" not in json.dumps(event.detail)  # times and counts, no content

    gone = w.client.delete(
        f"{V1}/lessons/{lesson}/blanks/{listed[0]['id']}", headers=w.auth("mentor")
    )
    assert gone.status_code == 409 and gone.json()["code"] == "blank_applied", gone.text


def _keep_a_version(world: World, storage: Storage) -> None:
    """Version 1 of lesson_a's transcript kept (as transcribing again would), the same words."""
    lesson = world.ids["lesson_a"]
    for fmt in ("json", "txt"):
        data = storage.get_bytes(f"lessons/{lesson}/transcript.{fmt}")
        storage.put_bytes(f"lessons/{lesson}/transcripts/v1/transcript.{fmt}", data)
    with session_scope(world.settings.database_url) as s:
        s.add(TranscriptVersion(lesson_id=lesson, number=1, words=20, formats=["json", "txt"]))


def _check_version(world: World) -> None:
    lesson = world.ids["lesson_a"]
    url = f"{V1}/lessons/{lesson}/transcript"
    kept = world.client.get(url, params={"version": 1}, headers=world.auth("mentor"))
    assert kept.status_code == 200, kept.text
    texts = [w["text"].strip(".").lower() for seg in kept.json()["segments"] for w in seg["words"]]
    assert "today" in texts and not set(GONE) & set(texts)
    txt = world.client.get(
        url, params={"version": 1, "format": "txt"}, headers=world.auth("mentor")
    )
    assert " looking " not in f" {txt.text} " and "equivalent" in txt.text
    versions = world.client.get(
        f"{V1}/lessons/{lesson}/transcriptions", headers=world.auth("mentor")
    )
    assert [v["words"] for v in versions.json() if v["number"] == 1] == [20 - len(GONE)]


def test_a_blank_rewrites_the_stored_lesson(world: World, tmp_path: Path) -> None:
    storage = world.storage
    _keep_a_version(world, storage)
    with session_scope(world.settings.database_url) as s:
        old = s.get(Lesson, world.ids["lesson_a"])
        assert old is not None
        old_sha = old.source_sha256
    tasks = _blank_worker(world, world.settings, storage)
    _blank(world, world.ids["lesson_a"])
    tasks.join()
    assert not tasks.errors, tasks.errors
    _check_stored_lesson(world, storage, tmp_path)
    _check_version(world)
    with session_scope(world.settings.database_url) as s:
        lesson = s.get(Lesson, world.ids["lesson_a"])
        assert lesson is not None and lesson.source_sha256 not in ("", old_sha)
    # lesson_b is someone else's: untouched
    other = world.client.get(
        f"{V1}/search", params={"q": "looking"}, headers=world.auth("mentor_b")
    ).json()
    assert any(h["lesson_id"] == world.ids["lesson_b"] for h in other)


def test_a_blank_rewrites_the_stored_lesson_on_s3(
    world: World,
    tmp_path: Path,
    s3_url: str,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = world.storage
    s3 = open_storage(s3_url)
    for key in local.list_keys("lessons"):
        path = local.local_path(key)
        assert path is not None
        s3.put_file(key, path)
    monkeypatch.setenv("CLIPCOACH_STORAGE_URL", s3_url)
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.storage_url == s3_url
    tasks = _blank_worker(world, settings, s3)
    _blank(world, world.ids["lesson_a"])
    tasks.join()
    assert not tasks.errors, tasks.errors
    _check_stored_lesson(world, s3, tmp_path)
    source = f"lessons/{world.ids['lesson_a']}/source.mp4"
    assert local.get_bytes(source) != s3.get_bytes(source)  # S3's, not the folder's, was rewritten


def test_a_failed_rewrite_leaves_the_lesson_as_it_was(world: World) -> None:
    w = world
    lesson = w.ids["lesson_a"]
    storage = w.storage
    media_key = f"lessons/{lesson}/lesson.mp4"
    storage.put_bytes(media_key, b"not a recording at all" * 100)

    def files() -> dict[str, bytes]:
        """The lesson's stored files but the clip renders (thrown away when a blank is added)."""
        keys = storage.list_keys(f"lessons/{lesson}")
        return {k: storage.get_bytes(k) for k in keys if "/clips/" not in k}

    before = files()
    tasks = _blank_worker(w, w.settings, storage)
    made = _blank(w, lesson)
    tasks.join()
    assert not tasks.errors, tasks.errors
    listed = w.client.get(f"{V1}/lessons/{lesson}/blanks", headers=w.auth("mentor")).json()
    assert listed[0]["status"] == "failed" and listed[0]["error_code"], listed
    assert listed[0]["error_message"]
    assert files() == before  # nothing stored, nothing deleted
    hits = w.client.get(f"{V1}/search", params={"q": "looking"}, headers=w.auth("mentor")).json()
    assert any(h["lesson_id"] == lesson for h in hits)
    # a failed blank can be removed (the stored lesson was never rewritten for it)
    gone = w.client.delete(f"{V1}/lessons/{lesson}/blanks/{made['id']}", headers=w.auth("mentor"))
    assert gone.status_code == 204, gone.text


def test_a_lesson_still_processing_is_refused(world: World) -> None:
    w = world
    lesson = w.ids["lesson_a"]
    tasks = _blank_worker(w, w.settings, w.storage)
    with session_scope(w.settings.database_url) as s:
        row = s.get(Lesson, lesson)
        assert row is not None
        row.status = LessonStatus.processing
    answer = w.client.post(
        f"{V1}/lessons/{lesson}/blanks", json={"start": START, "end": END}, headers=w.auth("mentor")
    )
    assert answer.status_code == 409 and answer.json()["code"] == "lesson_not_ready", answer.text
    assert tasks.sent == []
    assert w.client.get(f"{V1}/lessons/{lesson}/blanks", headers=w.auth("mentor")).json() == []


def test_a_pending_blank_holds_off_transcribing_again(world: World) -> None:
    w = world
    lesson = w.ids["lesson_a"]
    tasks = InProcessQueue()  # the blank task is only recorded: the blank stays pending
    use_queue(w.app, tasks)
    _blank(w, lesson)
    assert tasks.sent == [(queue.BLANK_LESSON, (lesson,))]
    again = w.client.post(
        f"{V1}/lessons/{lesson}/transcriptions", json={}, headers=w.auth("mentor")
    )
    assert again.status_code == 409 and again.json()["code"] == "blank_in_progress", again.text
    with session_scope(w.settings.database_url) as s:  # a worker takes it
        s.execute(update(LessonBlank).values(status=BlankStatus.applying, claim="run-1"))
    blank = w.client.get(f"{V1}/lessons/{lesson}/blanks", headers=w.auth("mentor")).json()[0]
    gone = w.client.delete(f"{V1}/lessons/{lesson}/blanks/{blank['id']}", headers=w.auth("mentor"))
    assert gone.status_code == 409 and gone.json()["code"] == "blank_applying", gone.text


def test_a_blank_whose_queue_is_down_says_so(world: World) -> None:
    class Down:
        def send(self, name: str, *args: object, queue: str | None = None) -> None:
            raise ConnectionError("broker down")

    w = world
    use_queue(w.app, Down())  # type: ignore[arg-type]
    made = w.client.post(
        f"{V1}/lessons/{w.ids['lesson_a']}/blanks",
        json={"start": START, "end": END},
        headers=w.auth("mentor"),
    )
    assert made.status_code == 201, made.text
    assert (made.json()["status"], made.json()["error_code"]) == ("failed", "queue_unavailable")


def test_a_transcript_correction_waits_for_the_blank(world: World) -> None:
    """The worker rewrites every transcript from the copies it fetched: a correction or revert
    saved meanwhile would be overwritten, so both are refused until the blank is written."""
    w = world
    lesson = w.ids["lesson_a"]
    use_queue(w.app, InProcessQueue())  # the blank task is only recorded: the blank stays pending
    _blank(w, lesson)
    correction = {"version": 1, "sentences": [{"index": 0, "text": "Good morning, class."}]}
    before = w.client.get(f"{V1}/lessons/{lesson}/transcript?format=txt", headers=w.auth("mentor"))

    def refused() -> None:
        for path, body in (("corrections", correction), ("reverts", {"version": 1})):
            answer = w.client.post(
                f"{V1}/lessons/{lesson}/transcript/{path}", json=body, headers=w.auth("mentor")
            )
            assert answer.status_code == 409, answer.text
            assert answer.json()["code"] == "blank_in_progress", answer.text
            assert "blanked moment" in answer.json()["detail"]

    refused()
    with session_scope(w.settings.database_url) as s:  # a worker is writing it
        s.execute(update(LessonBlank).values(status=BlankStatus.applying, claim="run-1"))
    refused()
    now = w.client.get(f"{V1}/lessons/{lesson}/transcript?format=txt", headers=w.auth("mentor"))
    assert now.text == before.text
    with session_scope(w.settings.database_url) as s:
        assert s.scalars(select(TranscriptVersion)).all() == []
        s.execute(update(LessonBlank).values(status=BlankStatus.applied, claim=None))
    saved = w.client.post(
        f"{V1}/lessons/{lesson}/transcript/corrections", json=correction, headers=w.auth("mentor")
    )
    assert saved.status_code == 201, saved.text
