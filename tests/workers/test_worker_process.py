"""A lesson through a real Celery worker process on the embedded filesystem broker (not eager)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.db import session_scope
from models.lesson import Lesson, LessonStatus
from models.queue import PROCESS_LESSON, send_task
from models.settings import Settings
from models.storage import open_storage
from tests import mediafactory
from tests.services import WorkerProcess

PHRASES = [
    "Good morning everyone. Today we are learning about fractions.",
    "What is one half plus one quarter? Think about it with your partner.",
    "Well done. Now open your books and try the first three questions.",
]
TIMEOUT = 240.0


@pytest.fixture(scope="module")
def spoken_lesson(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lesson")
    mediafactory.make_speech(folder / "speech.wav", PHRASES, pause=1.5)
    mediafactory.add_video_to_audio(folder / "speech.wav", folder / "my lesson é.mp4")
    return folder / "my lesson é.mp4"


@pytest.fixture
def worker(settings: Settings) -> Iterator[WorkerProcess]:
    """The same worker `clipcoach serve` starts beside the app: both queues, two processes."""
    env = {**os.environ, "CLIPCOACH_DATA_DIR": str(settings.data_dir)}
    proc = WorkerProcess("media,transcribe", env, settings.data_dir / "worker.log", concurrency=2)
    proc.start()
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()


def _add_lesson(settings: Settings, source: Path) -> str:
    storage = open_storage(settings.storage_url)
    with session_scope(settings.database_url) as session:
        lesson = Lesson(source_key="pending", source_filename=source.name, title="Fractions")
        session.add(lesson)
        session.flush()
        lesson.source_key = lesson.artefact_key(f"source{source.suffix}")
        storage.put_file(lesson.source_key, source)
        return lesson.id


def _watch(settings: Settings, lesson_id: str) -> list[tuple[str, str | None, int]]:
    """Poll the lesson row until it is ready or failed; return every state seen."""
    seen: list[tuple[str, str | None, int]] = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        with session_scope(settings.database_url) as session:
            lesson = session.get(Lesson, lesson_id)
            assert lesson is not None
            state = (lesson.status.value, lesson.stage, lesson.progress)
        if not seen or seen[-1] != state:
            seen.append(state)
        if state[0] in (LessonStatus.ready, LessonStatus.failed):
            return seen
        time.sleep(0.1)
    pytest.fail(f"lesson not finished after {TIMEOUT} s; states seen: {seen}")


@pytest.mark.model
def test_worker_process_takes_a_lesson_to_ready(
    settings: Settings, worker: WorkerProcess, spoken_lesson: Path
) -> None:
    lesson_id = _add_lesson(settings, spoken_lesson)
    send_task(PROCESS_LESSON, lesson_id)
    seen = _watch(settings, lesson_id)

    assert worker.process is not None
    assert worker.process.poll() is None, f"the worker process died:\n{worker.log_tail()}"
    assert seen[-1] == ("ready", None, 100), seen
    progress = [p for _, _, p in seen]
    assert progress == sorted(progress), f"progress went backwards: {seen}"
    stages = {stage for _, stage, _ in seen if stage}
    assert len(stages) >= 2, f"expected to watch the stage move on: {seen}"
    assert any(status == "processing" and 0 < p < 100 for status, _, p in seen), seen

    storage = open_storage(settings.storage_url)
    keys = {k.rsplit("/", 1)[1] for k in storage.list_keys(f"lessons/{lesson_id}")}
    assert {"lesson.mp4", "probe.json", "transcript.vtt", "segments.json", "sprite.jpg"} <= keys
    transcript = json.loads(storage.get_bytes(f"lessons/{lesson_id}/transcript.json"))
    text = " ".join(s["text"] for s in transcript["segments"]).lower()
    assert "fractions" in text and "partner" in text
    # The scratch space is cleaned after every stage.
    assert not any(settings.scratch.iterdir())


def test_worker_process_reports_bad_input_as_a_failed_stage(
    settings: Settings, worker: WorkerProcess, tmp_path: Path
) -> None:
    fake = tmp_path / "lesson.mp4"
    mediafactory.write_pdf(fake)
    lesson_id = _add_lesson(settings, fake)
    send_task(PROCESS_LESSON, lesson_id)
    seen = _watch(settings, lesson_id)

    with session_scope(settings.database_url) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        assert lesson.status == LessonStatus.failed
        assert lesson.error_code == "not_media"
        assert lesson.error_message
    assert seen[-1][0] == "failed"
