"""Acceptance for the scale-out backends: a lesson through the whole pipeline with two separate
worker processes (`clipcoach worker --queues media` and `--queues transcribe`) consuming their
queues over Redis, media in S3 (seaweedfs on loopback), state in a fresh PostgreSQL database;
then a clip of it, rendered by the media pool (`clipcoach.clip.render`), served through a
presigned URL that answers a range request with 206."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from models.coaching import Clip, RenderStatus
from models.db import session_scope
from models.lesson import Lesson, LessonStage, LessonStatus
from models.queue import PROCESS_LESSON, RENDER_CLIP, send_task
from models.settings import Settings
from models.storage.s3 import S3Storage
from tests import mediafactory
from tests.services import WorkerProcess, scaleout_env

PHRASES = [
    "Good morning everyone. Today we are learning about photosynthesis.",
    "Plants use light energy to make glucose from carbon dioxide and water.",
    "Talk to your partner about where the oxygen comes from.",
]
LESSON_TIMEOUT = 300.0


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scaleout-media")
    mediafactory.make_speech(folder / "speech.wav", PHRASES, pause=1.2)
    mediafactory.add_video_to_audio(folder / "speech.wav", folder / "Year 7 science.mp4")
    return folder / "Year 7 science.mp4"


def _add_lesson(settings: Settings, storage: S3Storage, source: Path) -> str:
    with session_scope(settings.database_url) as session:
        lesson = Lesson(source_key="pending", source_filename=source.name, title="Photosynthesis")
        session.add(lesson)
        session.flush()
        lesson.source_key = lesson.artefact_key(f"source{source.suffix}")
        storage.put_file(lesson.source_key, source)
        return lesson.id


def _wait_finished(settings: Settings, lesson_id: str, workers: list[WorkerProcess]) -> Lesson:
    deadline = time.monotonic() + LESSON_TIMEOUT
    while time.monotonic() < deadline:
        for worker in workers:
            assert worker.process is not None
            if worker.process.poll() is not None:
                pytest.fail(f"worker {worker.queues} died:\n{worker.log_tail()}")
        with session_scope(settings.database_url) as session:
            lesson = session.get(Lesson, lesson_id)
            assert lesson is not None
            if lesson.status in (LessonStatus.ready, LessonStatus.failed):
                session.expunge(lesson)
                return lesson
        time.sleep(0.5)
    logs = "\n".join(f"--- {w.queues}\n{w.log_tail()}" for w in workers)
    pytest.fail(f"lesson not finished in {LESSON_TIMEOUT} s\n{logs}")


def _stages_run_by(worker: WorkerProcess) -> set[str]:
    """Stage task names the worker's log says it received."""
    log = worker.log_path.read_text(errors="replace")
    return set(re.findall(r"Task clipcoach\.stage\.(\w+)\[[^\]]+\] received", log))


def _range_get(url: str, first: int, last: int) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"Range": f"bytes={first}-{last}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Range", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, "", exc.read()


def _render_clip(settings: Settings, lesson_id: str, workers: list[WorkerProcess]) -> str:
    """A mentor's clip of the lesson, rendered by the media pool's `clipcoach.clip.render`."""
    with session_scope(settings.database_url) as session:
        made = Clip(lesson_id=lesson_id, title="Partner talk", start=1.0, end=5.0)
        made.render_status = RenderStatus.queued
        session.add(made)
        session.flush()
        clip_id = made.id
    send_task(RENDER_CLIP, clip_id)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with session_scope(settings.database_url) as session:
            clip = session.get(Clip, clip_id)
            assert clip is not None
            if clip.render_status == RenderStatus.ready:
                assert clip.media_key is not None
                return clip.media_key
            logs = "\n".join(f"--- {w.queues}\n{w.log_tail()}" for w in workers)
            assert clip.render_status != RenderStatus.failed, (clip.render_error_code, logs)
        time.sleep(0.3)
    pytest.fail("clip not rendered in 120 s")


@pytest.mark.services
@pytest.mark.model
def test_lesson_through_two_worker_pools_on_redis_s3_and_postgres(
    scaleout: Settings, recording: Path, tmp_path: Path
) -> None:
    storage = S3Storage.from_url(scaleout.storage_url)
    assert scaleout.database_url.startswith("postgresql+psycopg://")
    assert scaleout.broker_url.startswith("redis://")
    env = scaleout_env(
        scaleout.data_dir,
        database_url=scaleout.database_url,
        storage_url=scaleout.storage_url,
        broker_url=scaleout.broker_url,
    )
    media = WorkerProcess(  # the media host also takes clip renders here (compose: worker-clips)
        "media,clips", env, tmp_path / "logs" / "media.log", scratch=tmp_path / "scratch-media"
    )
    transcribe = WorkerProcess(
        "transcribe",
        env,
        tmp_path / "logs" / "transcribe.log",
        scratch=tmp_path / "scratch-transcribe",
    )
    workers = [media, transcribe]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_ready()

        lesson_id = _add_lesson(scaleout, storage, recording)
        send_task(PROCESS_LESSON, lesson_id)
        lesson = _wait_finished(scaleout, lesson_id, workers)
        logs = "\n".join(f"--- {w.queues}\n{w.log_tail()}" for w in workers)
        assert lesson.status == LessonStatus.ready, (lesson.error_code, lesson.error_message, logs)
        assert lesson.progress == 100

        # Each pool ran only its own queue's stages, and between them every stage.
        assert _stages_run_by(transcribe) == {"transcribe"}, logs
        assert _stages_run_by(media) == {
            "probe", "normalise", "audio", "thumbnails", "scenes", "segment"
        }, logs  # fmt: skip
        assert media.process is not None and transcribe.process is not None
        assert media.process.pid != transcribe.process.pid

        clip_key = _render_clip(scaleout, lesson_id, workers)
    finally:
        for worker in workers:
            worker.stop()

    # State is in PostgreSQL: one row per stage, all finished.
    with session_scope(scaleout.database_url) as session:
        stages = session.query(LessonStage).filter_by(lesson_id=lesson_id).all()
        assert {s.name: s.status.value for s in stages} == {
            "probe": "done", "normalise": "done", "audio": "done", "transcribe": "done",
            "thumbnails": "done", "scenes": "done", "segment": "done",
        }  # fmt: skip

    # Media is in S3, and nothing was written to the embedded storage folder or left in scratch.
    keys = {k.rsplit("/", 1)[1] for k in storage.list_keys(f"lessons/{lesson_id}")}
    assert {
        "lesson.mp4",
        "probe.json",
        "transcript.json",
        "transcript.vtt",
        "segments.json",
    } <= keys
    assert not (scaleout.data_dir / "storage").exists()
    for worker in workers:
        assert worker.scratch is not None
        assert not any(worker.scratch.iterdir()), f"{worker.queues} left scratch files"
    transcript = json.loads(storage.get_bytes(f"lessons/{lesson_id}/transcript.json"))
    text = " ".join(s["text"] for s in transcript["segments"]).lower()
    assert "photosynthesis" in text or "partner" in text, text

    # The clip, served to a browser by a presigned URL that honours range requests.
    size = storage.size(clip_key)
    assert size > 1100
    url = storage.presigned_get_url(clip_key, timedelta(minutes=5))
    assert url is not None
    status, content_range, body = _range_get(url, 100, 1099)
    assert status == 206
    assert content_range == f"bytes 100-1099/{size}"
    assert body == b"".join(storage.open_range(clip_key, 100, 1099))
    assert len(body) == 1000
