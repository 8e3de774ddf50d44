"""Real services on loopback for integration tests: an S3 server, PostgreSQL databases, Redis.

Reusable by any test package. Import the fixtures you need into your package's conftest.py:

    from tests.services import postgres_url, redis_broker_url, s3_server, s3_url  # noqa: F401

- `s3_server` (session): a `WeedServer`, seaweedfs `weed mini` in a temp dir on free loopback
  ports with its own credentials; `.stop()` / `.start()` for fault tests (same data, same ports).
- `s3_url` (function): `s3://KEY:SECRET@127.0.0.1:PORT/<fresh bucket>?secure=false`.
- `postgres_url` (function): `postgresql+psycopg://postgres@127.0.0.1:5432/clipcoach_test_<hex>`,
  a fresh empty database (not migrated), dropped afterwards. `fresh_postgres_database()` is the
  same as a context manager, for session-scoped use.
- `redis_broker_url` (function): `redis://127.0.0.1:6379/0?key_prefix=cctest-<hex>:`; every key
  the run made is deleted afterwards (models.queue turns `key_prefix` into kombu's
  `global_keyprefix`, so parallel runs never see each other's queues).

Helpers without fixtures: `scaleout_env(...)` (the environment of a clipcoach process on these
services) and `WorkerProcess` (`clipcoach worker --queues Q` as a real subprocess, with
`wait_ready`, `stop` (warm) and `kill` (SIGKILL, for fault tests)).

The helpers are benchmarks/loopback.py's (the scaling benchmark uses them too), re-exported here.
Nothing is skipped: if PostgreSQL or Redis is down the helpers start them the way
scripts/services.sh does, and fail loudly (ServiceError, with the reason) if they still cannot be
reached. The
weed server is always started here and stopped at the end of the session; nothing of it remains.
Only loopback addresses are used.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from benchmarks.loopback import (  # noqa: F401 - re-exported: the services' helpers live there
    GRPC_OFFSET,
    LOOPBACK,
    PG_ADMIN_URL,
    REDIS_HOST,
    REDIS_PORT,
    WeedServer,
    WorkerProcess,
    delete_redis_prefix,
    ensure_postgres,
    ensure_redis,
    free_port_pair,
    fresh_postgres_database,
    scaleout_env,
    weed_binary,
)

if TYPE_CHECKING:
    import uvicorn

    from models.settings import Settings


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedServer]:
    """A real S3 server (seaweedfs) for the whole session, stopped and removed at the end."""
    server = WeedServer(tmp_path_factory.mktemp("weed"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def s3_url(s3_server: WeedServer) -> str:
    """A storage URL for a bucket no other test uses (S3Storage creates it on first use)."""
    if s3_server.process is None:  # a fault test stopped it and failed before restarting
        s3_server.start()
    return s3_server.url(f"cc-test-{secrets.token_hex(6)}")


# -- PostgreSQL --------------------------------------------------------------------------------


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (not migrated), dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


# -- Redis -------------------------------------------------------------------------------------


@pytest.fixture
def redis_broker_url() -> Iterator[str]:
    """A Celery broker URL on the local Redis whose keys carry a prefix no other run uses."""
    ensure_redis()
    prefix = f"cctest-{secrets.token_hex(5)}:"
    try:
        yield f"redis://{REDIS_HOST}:{REDIS_PORT}/0?key_prefix={prefix}"
    finally:
        delete_redis_prefix(prefix)


# -- clipcoach worker processes ----------------------------------------------------------------


# -- `clipcoach serve` as a real subprocess --------------------------------------------------


@contextlib.contextmanager
def uvicorn_thread(config: uvicorn.Config) -> Iterator[int]:
    """Serve `config`'s app with a real uvicorn on a daemon thread; yields the port it listens
    on (the chosen one when `config.port` is 0) once it has started, and stops it after."""
    import threading

    import uvicorn

    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of a process from /proc, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    return fields[0], int(fields[1])


def process_tree(pid: int) -> set[int]:
    """`pid` and every process descended from it, read from /proc (no psutil)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))) is not None:
            parents.setdefault(stat[1], []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(parents.get(current, []))
    return found


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie has already ended; only its exit status waits)."""
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def serve_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `clipcoach serve` on the embedded defaults in `settings.data_dir`
    (SQLite, a storage folder, the filesystem broker), nothing from the caller's CLIPCOACH_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPCOACH_")}
    env.update(
        CLIPCOACH_DATA_DIR=str(settings.data_dir),
        CLIPCOACH_SECRET_KEY=settings.secret_key,
        CLIPCOACH_SEED_DEMO="false",
        **extra,
    )
    return env


@dataclass
class ServeProcess:
    """`clipcoach serve` on a free loopback port in a session of its own (so a test can signal
    its whole process group, as systemd does), logging to `log_path`."""

    env: dict[str, str]
    log_path: Path
    with_worker: bool = True
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    seen: set[int] = field(default_factory=set)
    """Every process of the tree seen so far (`tree()`), for the leftovers check and cleanup."""

    workers: int = 3
    """Celery workers `serve` starts: the lesson pool, clip renders, and the sweep with beat."""

    def start(self, timeout: float = 120.0) -> ServeProcess:
        clipcoach = Path(sys.executable).with_name("clipcoach")
        command = [str(clipcoach), "serve", "--host", LOOPBACK, "--port", str(self.port)]
        command += [] if self.with_worker else ["--no-with-worker"]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.process.poll() is not None:
                pytest.fail(f"clipcoach serve exited early:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"clipcoach serve not ready after {timeout} s:\n{self.log_tail()}")
            time.sleep(0.2)
        self.tree()
        return self

    def _ready(self) -> bool:
        """The API answers and, with workers, every one of them says it is consuming."""
        log = self.log_path.read_text(errors="replace")
        if self.with_worker and log.count(" ready.") < self.workers:
            return False
        if self.with_worker and "beat: Starting..." not in log:
            return False
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=2) as sock:
                sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return sock.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def tree(self) -> set[int]:
        """The live processes of serve's tree now (remembered in `seen`)."""
        assert self.process is not None
        now = {pid for pid in process_tree(self.process.pid) if running(pid)}
        self.seen |= now
        return now

    def worker_tree(self, queues: str) -> set[int]:
        """The processes (main, pool, beat) of the workers whose `--queues` begin with `queues`."""
        assert self.process is not None
        serve = self.process.pid
        mains = [
            pid
            for pid in self.tree()
            if (stat := _proc_stat(pid)) is not None
            and stat[1] == serve
            and f"--queues {queues}" in command_line(pid)
        ]
        return set().union(*(process_tree(pid) for pid in mains))

    def leftovers(self) -> set[int]:
        """Processes of the tree seen so far that still run."""
        return {pid for pid in self.seen if running(pid)}

    def log_tail(self, chars: int = 6000) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """SIGTERM to serve; then SIGKILL whatever of its tree is left (also on old code that
        orphaned its workers), so no test leaves a process behind."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            self.tree()
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(30)
        for pid in self.leftovers():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
        if proc is not None and proc.poll() is None:
            proc.wait(10)


@contextlib.contextmanager
def tiny_tmpfs(path: Path, size: str = "1m") -> Iterator[Path]:
    """A full disk for real: a tmpfs of `size` mounted at `path` (tests run as root), unmounted
    after."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
