"""Faults injected on loopback with the real services and real processes; nothing is lost.

- a worker SIGKILLed mid-transcription; a new worker and the sweep finish the lesson;
- our own Redis (a private redis-server on a free loopback port, never the shared one) killed
  and restarted mid-batch: every lesson of the batch still becomes ready;
- the object store (weed) stopped while stages run: they retry with backoff and recover;
- the API killed during a chunked upload: after a restart the upload resumes at its offset;
- scratch space full (a 1 MiB tmpfs): a clear failure code, nothing corrupt or left behind.

Every wait is bounded; every process started here is stopped in a finally block, and the tmpfs
is unmounted. The sweep runs in this process with short thresholds (production runs it every
minute from beat with STALE_RUNNING = 10 min and LOST_QUEUED = 2 min; tests/integration covers
beat itself).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from models.account import Role
from models.accounts import create_user, issue_token
from models.db import reset_engines, session_scope
from models.lesson import Lesson, LessonStage, LessonStatus, StageStatus
from models.migrate import upgrade
from models.queue import PROCESS_LESSON, send_task
from models.settings import Settings, get_settings
from models.storage import open_storage
from pipeline.lesson import STAGES
from tests import mediafactory as mf
from tests.hardening.conftest import add_lesson, leftovers, process
from tests.services import LOOPBACK, WeedServer, WorkerProcess, tiny_tmpfs
from workers import sweep
from workers.tasks import stage_task_name

SECRET = "test-secret-key-that-is-long-enough-for-hs256"
PHRASES = [
    "Good morning everyone. Today we are learning about equivalent fractions.",
    "Show me on your whiteboards what one half of eight is.",
    "Talk to your partner about why two quarters make one half.",
    "Now open your books and try the first three questions on your own.",
    "Remember to show your working so that I can see how you thought about it.",
    "Well done everyone. Tomorrow we will add fractions with different denominators.",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def embedded_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPCOACH_")}
    env.update(
        CLIPCOACH_DATA_DIR=str(settings.data_dir),
        CLIPCOACH_SECRET_KEY=SECRET,
        CLIPCOACH_SEED_DEMO="false",
        CLIPCOACH_DATABASE_URL=settings.database_url,
        CLIPCOACH_STORAGE_URL=settings.storage_url,
        CLIPCOACH_BROKER_URL=settings.broker_url,
        **extra,
    )
    return env


def use_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Settings:
    monkeypatch.setenv("CLIPCOACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLIPCOACH_SECRET_KEY", SECRET)
    monkeypatch.setenv("CLIPCOACH_SEED_DEMO", "false")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    reset_engines()
    settings = get_settings()
    upgrade(settings.database_url)
    return settings


def stage_status(settings: Settings, lesson_id: str, stage: str) -> StageStatus | None:
    with session_scope(settings.database_url) as session:
        return session.scalars(
            select(LessonStage.status).where(
                LessonStage.lesson_id == lesson_id, LessonStage.name == stage
            )
        ).one_or_none()


def lesson_row(settings: Settings, lesson_id: str) -> Lesson:
    with session_scope(settings.database_url) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        session.expunge(lesson)
        return lesson


def resend(lesson_id: str, stage: str) -> None:
    send_task(stage_task_name(stage), lesson_id, queue=STAGES[stage].queue)


def wait_until(
    what: str, done: Callable[[], bool], timeout: float, *, every: float = 0.2,
    also: Callable[[], None] | None = None, logs: Callable[[], str] = str,
) -> None:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        if also is not None:
            also()
        time.sleep(every)
    pytest.fail(f"{what}: not within {timeout} s\n{logs()}")


def all_finished(settings: Settings, ids: list[str]) -> bool:
    return all(
        lesson_row(settings, i).status in (LessonStatus.ready, LessonStatus.failed) for i in ids
    )


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spoken")
    mf.make_speech(folder / "speech.wav", PHRASES, pause=1.0)
    mf.add_video_to_audio(folder / "speech.wav", folder / "fractions.mp4")
    return folder / "fractions.mp4"


# -- worker killed mid-transcription -----------------------------------------------------------


@pytest.mark.model
def test_worker_killed_mid_transcription_then_a_new_worker_finishes(
    settings: Settings, spoken: Path, tmp_path: Path
) -> None:
    env = embedded_env(settings)
    first = WorkerProcess("media,transcribe", env, tmp_path / "first.log", concurrency=2)
    second = WorkerProcess("media,transcribe", env, tmp_path / "second.log", concurrency=2)
    try:
        first.start()
        lesson_id = add_lesson(settings, spoken)
        send_task(PROCESS_LESSON, lesson_id)
        wait_until(
            "transcription started",
            lambda: stage_status(settings, lesson_id, "transcribe") == StageStatus.running,
            120, every=0.05, logs=first.log_tail,
        )  # fmt: skip
        time.sleep(0.5)  # the model is loaded and working
        first.kill()
        assert stage_status(settings, lesson_id, "transcribe") == StageStatus.running
        leftover = [p.name for p in settings.scratch.iterdir()]
        assert any("-transcribe-" in n for n in leftover), leftover  # the dead stage's folder

        second.start()
        second.wait_ready()
        time.sleep(2.0)  # older than the test's stale threshold, heartbeat included

        def sweep_once() -> None:
            sweep.sweep(
                settings.database_url, resend, lambda _q: 0,
                stale_running=timedelta(seconds=1.5),
            )  # fmt: skip

        sweep_once()  # what beat's sweep does once STALE_RUNNING has passed
        wait_until(
            "lesson finished after the kill",
            lambda: all_finished(settings, [lesson_id]),
            240, every=0.5, logs=second.log_tail,
        )  # fmt: skip
        lesson = lesson_row(settings, lesson_id)
        assert lesson.status == LessonStatus.ready, (lesson.error_code, second.log_tail())
        with session_scope(settings.database_url) as session:
            attempts = session.scalars(
                select(LessonStage.attempts).where(
                    LessonStage.lesson_id == lesson_id, LessonStage.name == "transcribe"
                )
            ).one()
        assert attempts == 2
        storage = open_storage(settings.storage_url)
        transcript = json.loads(storage.get_bytes(f"lessons/{lesson_id}/transcript.json"))
        text = " ".join(s["text"] for s in transcript["segments"]).lower()
        assert "fractions" in text
        # the killed attempt's scratch folder went with the retry; nothing half-written stored
        assert list(settings.scratch.iterdir()) == []
        assert leftovers(settings.data_dir / "storage") == []
    finally:
        first.kill()
        second.stop()


# -- Redis restarted mid-batch -----------------------------------------------------------------


@contextlib.contextmanager
def private_redis(folder: Path) -> Iterator[Callable[[], None]]:
    """A redis-server of our own on a free loopback port, without persistence; yields a
    function that kills it (SIGKILL: everything queued is lost) and starts it again."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", LOOPBACK,
        "--save", "", "--appendonly", "no", "--dir", str(folder), "--daemonize", "no",
    ]  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        log = open(folder / "redis.log", "ab")  # noqa: SIM115 - handed to the child
        procs.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        log.close()
        import redis

        client = redis.Redis(LOOPBACK, port, socket_connect_timeout=1)
        wait_until("private redis up", lambda: _pings(client), 15)

    def restart() -> None:
        procs[-1].send_signal(signal.SIGKILL)
        procs[-1].wait(10)
        time.sleep(2.0)  # workers see the connection drop
        start()

    start()
    restart.port = port  # type: ignore[attr-defined]
    try:
        yield restart
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)


def _pings(client) -> bool:  # type: ignore[no-untyped-def]
    import redis

    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.mark.slow
@pytest.mark.model
def test_redis_restarted_mid_batch_loses_no_lesson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spoken: Path
) -> None:
    with private_redis(tmp_path / "redis") as restart_redis:
        port = restart_redis.port  # type: ignore[attr-defined]
        settings = use_env(
            monkeypatch, tmp_path, CLIPCOACH_BROKER_URL=f"redis://{LOOPBACK}:{port}/0"
        )
        worker = WorkerProcess("media,transcribe", embedded_env(settings), tmp_path / "w.log")
        try:
            worker.start()
            worker.wait_ready()
            ids = [add_lesson(settings, spoken) for _ in range(6)]
            for lesson_id in ids:
                send_task(PROCESS_LESSON, lesson_id)
            wait_until(
                "the batch under way",
                lambda: stage_status(settings, ids[0], "normalise") == StageStatus.done,
                180, every=0.2, logs=worker.log_tail,
            )  # fmt: skip
            assert not all_finished(settings, ids), "the batch finished before the fault"
            restart_redis()

            import redis

            client = redis.Redis(LOOPBACK, port)

            repaired: list[tuple[str, str]] = []

            def sweep_now() -> None:
                report = sweep.sweep(
                    settings.database_url, resend, lambda q: int(client.llen(q)),
                    stale_running=timedelta(seconds=45), lost_queued=timedelta(seconds=3),
                )  # fmt: skip
                repaired.extend(report.resent + report.requeued)

            wait_until(
                "every lesson of the batch finished",
                lambda: all_finished(settings, ids),
                420, every=3.0, also=sweep_now, logs=worker.log_tail,
            )  # fmt: skip
            states = [(lesson_row(settings, i).status, lesson_row(settings, i).error_code)
                      for i in ids]  # fmt: skip
            assert all(s == LessonStatus.ready for s, _ in states), states
            # the restart really lost messages, and the sweep sent them again
            assert repaired, "nothing was lost: the fault came too late"
            logging.getLogger(__name__).info(
                "redis restart: %d stages resent or requeued", len(repaired)
            )
        finally:
            worker.stop()


# -- object store stopped ----------------------------------------------------------------------


@pytest.mark.services
def test_object_store_outage_is_retried_with_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_server: WeedServer, s3_url: str,
    spoken: Path,
) -> None:  # fmt: skip
    settings = use_env(monkeypatch, tmp_path, CLIPCOACH_STORAGE_URL=s3_url)
    worker = WorkerProcess("media,transcribe", embedded_env(settings), tmp_path / "w.log")
    lesson_id = add_lesson(settings, spoken, transcribe=False)
    try:
        worker.start()
        worker.wait_ready()
        s3_server.stop()
        down_at = time.monotonic()
        send_task(PROCESS_LESSON, lesson_id)
        wait_until(
            "a stage retried", lambda: "Retry in" in worker.log_tail(20000), 60,
            logs=worker.log_tail,
        )  # fmt: skip
        time.sleep(max(0.0, 8.0 - (time.monotonic() - down_at)))
        s3_server.start()
        wait_until(
            "lesson finished after the outage",
            lambda: all_finished(settings, [lesson_id]),
            180, every=0.5, logs=worker.log_tail,
        )  # fmt: skip
        lesson = lesson_row(settings, lesson_id)
        assert lesson.status == LessonStatus.ready, (lesson.error_code, worker.log_tail())
        log = worker.log_path.read_text(errors="replace")
        assert "storage" in log.lower()
        assert list(settings.scratch.iterdir()) == []
    finally:
        worker.stop()
        s3_server.start()


# -- API restarted during a chunked upload -----------------------------------------------------


class ApiProcess:
    def __init__(self, settings: Settings, log: Path) -> None:
        self.port = free_port()
        self.env = embedded_env(settings)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "api.app:app", "--host", LOOPBACK,
                 "--port", str(self.port), "--log-level", "warning"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
                cwd=Path(__file__).resolve().parents[2],
            )  # fmt: skip
        wait_until("API up", self._up, 30, logs=lambda: self.log.read_text(errors="replace"))

    def _up(self) -> bool:
        try:
            return self.request("GET", "/api/v1/health")[0] == 200
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()


def test_api_restarted_during_a_chunked_upload_resumes(settings: Settings, tmp_path: Path) -> None:
    # The lesson's task goes to this test's own broker, where no worker reads it: the API runs
    # in processes of its own, out of reach of any patching in this one.
    source = tmp_path / "lesson.mp4"
    mf.make_video(source, duration=8.0, size=(640, 360))
    data = source.read_bytes()
    with session_scope(settings.database_url) as session:
        user, _ = create_user(session, "ect@school.test", "Ect", Role.ect, "pw-not-used-here")
        token = issue_token(settings, user).token
    auth = {"Authorization": f"Bearer {token}"}
    api = ApiProcess(settings, tmp_path / "api.log")
    try:
        api.start()
        body = json.dumps({"filename": "lesson.mp4", "size": len(data),
                           "sha256": hashlib.sha256(data).hexdigest()}).encode()  # fmt: skip
        status, _, raw = api.request(
            "POST", "/api/v1/uploads", body, {**auth, "Content-Type": "application/json"}
        )
        assert status == 201, raw
        upload = json.loads(raw)["id"]
        half = len(data) // 2
        chunk = {**auth, "Content-Type": "application/offset+octet-stream"}
        status, _, raw = api.request(
            "PATCH", f"/api/v1/uploads/{upload}", data[:half], {**chunk, "Upload-Offset": "0"}
        )
        assert status == 200, raw

        # the second chunk is half sent when the API process dies
        conn = http.client.HTTPConnection(LOOPBACK, api.port, timeout=10)
        conn.putrequest("PATCH", f"/api/v1/uploads/{upload}")
        for key, value in {**chunk, "Upload-Offset": str(half),
                           "Content-Length": str(len(data) - half)}.items():  # fmt: skip
            conn.putheader(key, value)
        conn.endheaders()
        quarter = (len(data) - half) // 2
        conn.send(data[half : half + quarter])
        time.sleep(0.5)
        api.kill()
        with contextlib.suppress(OSError):
            conn.close()

        api.start()  # a new process on the same data
        status, headers, _ = api.request("HEAD", f"/api/v1/uploads/{upload}", None, auth)
        assert status == 200
        offset = int(headers["upload-offset"])
        assert half <= offset <= half + quarter, (half, offset)
        status, _, raw = api.request(
            "PATCH", f"/api/v1/uploads/{upload}", data[offset:],
            {**chunk, "Upload-Offset": str(offset)},
        )  # fmt: skip
        assert status == 200, raw
        assert json.loads(raw)["offset"] == len(data)
        status, _, raw = api.request(
            "POST", "/api/v1/lessons", json.dumps({"upload_id": upload}).encode(),
            {**auth, "Content-Type": "application/json"},
        )  # fmt: skip
        assert status == 201, raw
        lesson = json.loads(raw)["id"]
        stored = open_storage(settings.storage_url).get_bytes(f"lessons/{lesson}/source.mp4")
        assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest()
        assert list((settings.data_dir / "uploads").iterdir()) == []
    finally:
        api.kill()


# -- scratch space full ------------------------------------------------------------------------


@pytest.mark.model
def test_full_scratch_space_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.mp4"
    mf.make_video(big, duration=6.0, size=(640, 360))  # larger than the scratch space
    small = tmp_path / "small.mp4"
    mf.make_video(small, duration=20.0, size=(160, 120), fps=10)  # fits; its outputs do not
    assert big.stat().st_size > 1024 * 1024 > small.stat().st_size
    with tiny_tmpfs(tmp_path / "scratch") as scratch:
        settings = use_env(monkeypatch, tmp_path, CLIPCOACH_SCRATCH_DIR=str(scratch))
        for source in (big, small):
            # The small source fits but normalise's output does not. ffmpeg 5.1 sometimes exits
            # 0 after a failed write; the full disk is still named as the reason.
            done = process(settings, source)
            assert not done.crashed, done
            assert done.status == LessonStatus.failed, done
            assert done.error_code == "no_space", done
            assert done.error_message and "disk space" in done.error_message
            assert {k.split(".")[0] for k in done.keys} <= {"source", "probe"}, done.keys
            assert list(scratch.iterdir()) == []
        assert leftovers(settings.data_dir / "storage") == []
