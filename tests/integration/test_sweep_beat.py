"""The sweep end to end: `clipcoach worker --beat` schedules `clipcoach.sweep` on Redis, and a
stage whose worker vanished (no heartbeat for longer than STALE_RUNNING) is put back on its queue;
and `clipcoach serve` on the embedded defaults does the same while its lesson pool is stuck, since
the sweep has a worker of its own (issue 21, point 13). Beat's first sweep is one interval after
it starts, so the workers here sweep every SWEEP_INTERVAL seconds instead of every minute."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select, update

from models.db import session_scope, utcnow
from models.lesson import Lesson, LessonStage, StageStatus
from models.settings import Settings
from tests.services import ServeProcess, WorkerProcess, scaleout_env, serve_env
from workers import status
from workers.sweep import STALE_RUNNING

SWEEP_INTERVAL = 3


def _media_queue_length(broker_url: str) -> int:
    prefix = broker_url.split("key_prefix=", 1)[1]
    client = redis.Redis("127.0.0.1", 6379, db=0)
    try:
        return int(client.llen(f"{prefix}media"))
    finally:
        client.close()


def _lesson_with_a_stale_probe(db: str) -> str:
    """A lesson whose probe stage is `running` with a heartbeat older than STALE_RUNNING."""
    with session_scope(db) as session:
        lesson = Lesson(source_key="lessons/x/source.mp4", title="Lost")
        session.add(lesson)
        session.flush()
        lesson_id = lesson.id
    status.start_lesson(db, lesson_id)
    status.begin_stage(db, lesson_id, "probe")  # ... and the worker running it is gone
    with session_scope(db) as session:
        session.execute(
            update(LessonStage)
            .where(LessonStage.lesson_id == lesson_id)
            .values(heartbeat_at=utcnow() - STALE_RUNNING - timedelta(minutes=1))
        )
    return lesson_id


def _probe_state(db: str, lesson_id: str) -> StageStatus:
    with session_scope(db) as session:
        return session.scalars(
            select(LessonStage.status).where(
                LessonStage.lesson_id == lesson_id, LessonStage.name == "probe"
            )
        ).one()


@pytest.mark.services
def test_beat_in_one_worker_sweeps_a_stage_whose_worker_died(
    scaleout: Settings, tmp_path: Path
) -> None:
    db = scaleout.database_url
    lesson_id = _lesson_with_a_stale_probe(db)

    env = scaleout_env(
        scaleout.data_dir,
        database_url=db,
        storage_url=scaleout.storage_url,
        broker_url=scaleout.broker_url,
    )
    scheduler = WorkerProcess(
        "maintenance",
        env | {"CLIPCOACH_SWEEP_INTERVAL_SECONDS": str(SWEEP_INTERVAL)},
        tmp_path / "scheduler.log",
        beat=True,
    )
    try:
        scheduler.start()
        scheduler.wait_ready()
        deadline = time.monotonic() + SWEEP_INTERVAL + 60
        while time.monotonic() < deadline:
            if _probe_state(db, lesson_id) == StageStatus.queued:
                break
            time.sleep(1)
        else:
            pytest.fail(f"the sweep did not requeue the stage:\n{scheduler.log_tail()}")
        log = scheduler.log_path.read_text(errors="replace")
        assert "Scheduler: Sending due task sweep-stale-lessons (clipcoach.sweep)" in log
        assert "lost its worker: requeued" in log
        # The stage's message is back on the media queue, for any media worker to take. The sweep
        # commits the row and logs before it sends, so give the send a moment to land.
        deadline = time.monotonic() + 15
        while _media_queue_length(scaleout.broker_url) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _media_queue_length(scaleout.broker_url) == 1
    finally:
        scheduler.stop()


def test_serve_sweeps_while_its_lesson_pool_is_stuck(settings: Settings, tmp_path: Path) -> None:
    """Every process of serve's media/transcribe pool is frozen (SIGSTOP: as stuck as two long
    transcriptions, and consuming nothing); the sweep, on its own queue in its own worker, still
    requeues the stale stage within one interval of beat starting."""
    db = settings.database_url
    lesson_id = _lesson_with_a_stale_probe(db)
    serve = ServeProcess(
        serve_env(settings, CLIPCOACH_SWEEP_INTERVAL_SECONDS=str(SWEEP_INTERVAL)),
        tmp_path / "serve.log",
    )
    frozen: set[int] = set()
    try:
        serve.start()
        frozen = serve.worker_tree("media,transcribe")
        assert frozen, serve.log_tail()
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        deadline = started + SWEEP_INTERVAL + 30
        while _probe_state(db, lesson_id) != StageStatus.queued:
            if time.monotonic() > deadline:
                pytest.fail(f"the sweep did not requeue the stage:\n{serve.log_tail()}")
            time.sleep(1)
        log = serve.log_path.read_text(errors="replace")
        assert f"lesson {lesson_id}: stage probe lost its worker: requeued" in log
    finally:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        serve.stop()
