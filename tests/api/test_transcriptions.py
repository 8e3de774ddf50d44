"""Per-lesson transcription controls through HTTP, with the real worker stage code in process
and a fake transcriber that writes down the settings it was given."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models import queue
from models.audit import AuditEvent
from models.db import session_scope
from models.lesson import Lesson, LessonStage, LessonStatus
from models.queue import InProcessQueue
from models.storage import open_storage
from tests.api.conftest import World, process_with_workers, use_queue
from tests.fakes import always, settings_transcript
from tests.mediafactory import make_video

V1 = "/api/v1"


@pytest.fixture
def workers(world: World) -> Iterator[InProcessQueue]:
    from workers.runner import execute_stage
    from workers.transcription_tasks import retranscribe

    settings = world.settings

    def again(lesson_id: str) -> None:
        storage = open_storage(settings.storage_url)
        pending = deque(retranscribe(settings.database_url, lesson_id, lambda *a: None))
        while pending:
            stage = pending.popleft()
            execute_stage(
                settings, storage, lesson_id, stage, lambda _l, n: pending.append(n),
                always(settings_transcript),
            )  # fmt: skip

    inline = InProcessQueue(
        {
            queue.PROCESS_LESSON: lambda lesson_id: process_with_workers(
                settings, lesson_id, settings_transcript
            ),
            queue.RETRANSCRIBE_LESSON: again,
        }
    )
    use_queue(world.app, inline)
    yield inline
    inline.join()
    assert not inline.errors, inline.errors


@pytest.fixture
def lesson_id(world: World, workers: InProcessQueue, tmp_path: Path) -> str:
    video = make_video(tmp_path / "y8.mp4", duration=2.0).path
    with video.open("rb") as f:
        r = world.client.post(
            f"{V1}/lessons", files={"file": ("y8.mp4", f, "video/mp4")}, headers=world.auth("ect_a")
        )
    assert r.status_code == 201, r.text
    workers.join()
    assert r.json()["id"]
    return str(r.json()["id"])


def _versions(world: World, lesson_id: str, who: str = "ect_a") -> list[dict[str, Any]]:
    r = world.client.get(f"{V1}/lessons/{lesson_id}/transcriptions", headers=world.auth(who))
    assert r.status_code == 200, r.text
    return list(r.json())


def _transcript(world: World, lesson_id: str, query: str = "") -> dict[str, Any]:
    r = world.client.get(
        f"{V1}/lessons/{lesson_id}/transcript?format=json{query}", headers=world.auth("ect_a")
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _stages(world: World, lesson_id: str) -> dict[str, tuple[Any, ...]]:
    with session_scope(world.settings.database_url) as s:
        rows = s.scalars(select(LessonStage).where(LessonStage.lesson_id == lesson_id))
        return {r.name: (r.status, r.attempts, r.started_at, r.finished_at) for r in rows}


def test_transcribing_again_keeps_the_earlier_versions_readable(
    world: World, workers: InProcessQueue, lesson_id: str
) -> None:
    [v1] = _versions(world, lesson_id)
    assert (v1["number"], v1["current"], v1["ready"], v1["language"]) == (1, True, True, "en")
    assert v1["words"] == 2 and v1["vocabulary"] == []
    before = _stages(world, lesson_id)

    r = world.client.post(
        f"{V1}/lessons/{lesson_id}/transcriptions",
        json={"language": "cy", "vocabulary": ["Ysgol", "SENCO"]},
        headers=world.auth("mentor"),  # the ECT's paired mentor may
    )
    assert r.status_code == 202, r.text
    assert (r.json()["number"], r.json()["current"], r.json()["ready"]) == (2, True, False)
    workers.join()

    old, new = _versions(world, lesson_id)
    assert (old["number"], old["current"], old["language"], old["words"]) == (1, False, "en", 2)
    assert (new["number"], new["current"], new["ready"], new["language"]) == (2, True, True, "cy")
    assert new["vocabulary"] == ["Ysgol", "SENCO"] and new["words"] == 4
    assert _transcript(world, lesson_id)["language"] == "cy"
    assert _transcript(world, lesson_id, "&version=2")["language"] == "cy"
    # search follows the newest transcript, which the transcribe stage indexed
    found = world.client.get(f"{V1}/search?q=SENCO", headers=world.auth("mentor")).json()
    assert [hit["lesson_id"] for hit in found] == [lesson_id]
    assert _transcript(world, lesson_id, "&version=1")["language"] == "en"
    r = world.client.get(
        f"{V1}/lessons/{lesson_id}/transcript?format=vtt&version=1", headers=world.auth("ect_a")
    )
    assert r.status_code == 200 and "Settings en" in r.text
    assert world.storage.exists(f"lessons/{lesson_id}/transcripts/v1/options.json")
    after = _stages(world, lesson_id)
    for name in ("probe", "normalise", "thumbnails", "scenes"):
        assert after[name] == before[name], name  # not run again
    assert after["transcribe"][1] == before["transcribe"][1] + 1

    # The ECT re-runs their own; vocabulary left out is kept, language reset to the default.
    r = world.client.post(
        f"{V1}/lessons/{lesson_id}/transcriptions",
        json={"language": None},
        headers=world.auth("ect_a"),
    )
    assert r.status_code == 202, r.text
    workers.join()
    numbers = [(v["number"], v["language"], v["current"]) for v in _versions(world, lesson_id)]
    assert numbers == [(1, "en", False), (2, "cy", False), (3, "en", True)]
    assert _versions(world, lesson_id)[2]["vocabulary"] == ["Ysgol", "SENCO"]
    assert _transcript(world, lesson_id, "&version=2")["language"] == "cy"
    assert _transcript(world, lesson_id, "&version=1")["language"] == "en"
    r = world.client.get(
        f"{V1}/lessons/{lesson_id}/transcript?version=9", headers=world.auth("ect_a")
    )
    assert r.status_code == 404 and "version 9" in r.json()["detail"]


def test_who_may_transcribe_again_and_when(
    world: World, workers: InProcessQueue, lesson_id: str
) -> None:
    url = f"{V1}/lessons/{lesson_id}/transcriptions"
    assert world.client.post(url, json={}, headers=world.auth("admin")).status_code == 403
    for outsider in ("coach", "ect_b", "mentor_b"):
        assert world.client.post(url, json={}, headers=world.auth(outsider)).status_code == 404
        assert world.client.get(url, headers=world.auth(outsider)).status_code == 404
    r = world.client.post(url, json={"model": "/etc/passwd"}, headers=world.auth("ect_a"))
    assert r.status_code == 422 and "allows" in r.json()["detail"]
    r = world.client.post(url, json={"language": "english!"}, headers=world.auth("ect_a"))
    assert r.status_code == 422
    with session_scope(world.settings.database_url) as s:
        lesson = s.get(Lesson, lesson_id)
        assert lesson is not None
        lesson.status, lesson.stage = LessonStatus.processing, "transcribe"
    r = world.client.post(url, json={}, headers=world.auth("ect_a"))
    assert r.status_code == 409 and "still processing" in r.json()["detail"]
    assert len(_versions(world, lesson_id)) == 1  # nothing was kept or queued
    assert not [name for name, _ in workers.sent if name == queue.RETRANSCRIBE_LESSON]


def test_switching_transcription_off_and_deleting_the_transcripts(
    world: World, workers: InProcessQueue, lesson_id: str
) -> None:
    url = f"{V1}/lessons/{lesson_id}"
    world.client.post(f"{url}/transcriptions", json={"language": "cy"}, headers=world.auth("ect_a"))
    workers.join()
    assert len(_versions(world, lesson_id)) == 2

    r = world.client.patch(url, json={"transcribe": False}, headers=world.auth("mentor"))
    assert r.status_code == 200 and r.json()["transcribe"] is False
    assert _transcript(world, lesson_id)["language"] == "cy"  # kept: nobody asked to delete
    r = world.client.post(f"{url}/transcriptions", json={}, headers=world.auth("ect_a"))
    assert r.status_code == 409 and "switched off" in r.json()["detail"]
    r = world.client.patch(
        f"{url}?delete_transcripts=true", json={"transcribe": False}, headers=world.auth("mentor")
    )
    assert r.status_code == 403  # only the owner deletes

    assert world.storage.exists(f"lessons/{lesson_id}/analytics.json")  # quotes the transcript
    r = world.client.patch(
        f"{url}?delete_transcripts=true", json={"transcribe": False}, headers=world.auth("ect_a")
    )
    assert r.status_code == 200, r.text
    workers.join()
    r = world.client.get(f"{url}/transcript", headers=world.auth("ect_a"))
    assert r.status_code == 409 and "switched off" in r.json()["detail"]
    r = world.client.get(f"{url}/transcript?version=2", headers=world.auth("ect_a"))
    assert r.status_code == 404  # the kept version went too
    assert _versions(world, lesson_id) == []
    storage = world.storage
    assert not [k for k in storage.list_keys(f"lessons/{lesson_id}") if "transcript" in k]
    assert not storage.exists(f"lessons/{lesson_id}/audio.wav")
    for made_from_it in ("analytics.json", "speech.json"):
        assert not storage.exists(f"lessons/{lesson_id}/{made_from_it}"), made_from_it
    r = world.client.get(f"{url}/analytics", headers=world.auth("ect_a"))
    assert r.status_code == 409 and "switched off" in r.json()["detail"]
    segments = world.client.get(f"{url}/segments", headers=world.auth("ect_a")).json()
    assert "Settings" not in str(segments)  # candidate clips remade without transcript text
    stages = _stages(world, lesson_id)
    assert stages["transcribe"][0] == "skipped"
    with session_scope(world.settings.database_url) as s:
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.object_id == lesson_id)))
    assert {"lesson.transcription_off", "lesson.transcripts_delete"} <= actions

    # Back on: the lesson has no transcript, so it is transcribed again.
    r = world.client.patch(url, json={"transcribe": True}, headers=world.auth("ect_a"))
    assert r.status_code == 200 and r.json()["transcribe"] is True
    workers.join()
    assert _transcript(world, lesson_id)["language"] == "cy"
    assert [v["number"] for v in _versions(world, lesson_id)] == [1]
