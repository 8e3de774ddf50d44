"""`clipcoach serve` stops within its bound (issue 21, point 11), as a real subprocess on the
embedded defaults: SIGTERM or SIGINT to its pid, or SIGTERM to its whole process group (what
systemd sends), ends serve, its three Celery workers and everything they started (pool processes,
beat) within `shutdown_timeout_seconds` plus a small margin; and a client trickling a chunk is cut
off at the bound with its upload's offset true, so it resumes."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from models.account import Role
from models.accounts import create_user, issue_token
from models.db import session_scope
from models.settings import Settings
from models.upload import part_path
from tests.conftest import MEDIA
from tests.services import LOOPBACK, ServeProcess, serve_env

DEFAULT_BOUND = 10.0
"""`shutdown_timeout_seconds`' default, which the worker runs below use."""
MARGIN = 5.0
"""For reaping, and for a 2-core machine shared with other test runs."""
REPEATS = 5
"""Runs per way of stopping: the first in the default suite, the rest `slow`."""
FIGURES = Path(os.environ.get("CLIPCOACH_SHUTDOWN_FIGURES", os.devnull))
"""Where each run's figures are appended (for docs/reliability.md); nowhere by default."""


def _wait_gone(serve: ServeProcess, within: float) -> set[int]:
    """Until no process of serve's tree runs (a SIGKILLed pool process takes a moment to go)."""
    deadline = time.monotonic() + within
    while (left := serve.leftovers()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


WAYS = {
    "sigterm-pid": lambda pid: os.kill(pid, signal.SIGTERM),
    "sigint-pid": lambda pid: os.kill(pid, signal.SIGINT),
    "sigterm-group": lambda pid: os.killpg(pid, signal.SIGTERM),
}


@pytest.mark.parametrize(
    ("way", "run"),
    [
        pytest.param(way, run, marks=[pytest.mark.slow] if run else [], id=f"{way}-{run}")
        for way in WAYS
        for run in range(REPEATS)
    ],
)
def test_serve_and_every_process_it_started_stop_within_the_bound(
    settings: Settings, tmp_path: Path, way: str, run: int
) -> None:
    serve = ServeProcess(serve_env(settings), tmp_path / "serve.log")
    try:
        serve.start()
        tree = serve.tree()
        # serve, then per worker its main process and pool process, and the sweep worker's beat
        assert len(tree) >= 1 + 2 * serve.workers + 1, serve.log_tail()
        assert serve.process is not None
        started = time.monotonic()
        WAYS[way](serve.process.pid)
        try:
            code = serve.process.wait(DEFAULT_BOUND + MARGIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve still running {DEFAULT_BOUND + MARGIN} s after {way}:\n"
                        f"{serve.log_tail()}")  # fmt: skip
        exited = time.monotonic() - started
        left = _wait_gone(serve, max(0.5, DEFAULT_BOUND + MARGIN - exited))
        gone = time.monotonic() - started
        with FIGURES.open("a") as figures:
            figures.write(json.dumps({"way": way, "run": run, "processes": len(tree),
                                      "exit_s": round(exited, 2), "all_gone_s": round(gone, 2),
                                      "left": len(left), "code": code}) + "\n")  # fmt: skip
        assert not left, f"still running after {way}: {sorted(left)}\n{serve.log_tail()}"
        assert gone <= DEFAULT_BOUND + MARGIN
        assert code == 0, serve.log_tail()
    finally:
        serve.stop()


# -- a client trickling a chunk ----------------------------------------------------------------

BOUND = 3
"""A short bound for the trickle test, so it takes seconds; the mechanism is the same."""


class Trickle(threading.Thread):
    """PATCHes `data` as one chunk: the first `head` bytes at once, then 1 KiB every 0.1 s (a
    slow school connection), until the server drops the connection or `halt` is set."""

    def __init__(self, port: int, upload: str, token: str, data: bytes, head: int) -> None:
        super().__init__(daemon=True)
        self.port, self.upload, self.token, self.data, self.head = port, upload, token, data, head
        self.sent = 0
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=60)
        try:
            conn.putrequest("PATCH", f"/api/v1/uploads/{self.upload}")
            for name, value in (
                ("Authorization", f"Bearer {self.token}"),
                ("Content-Type", "application/offset+octet-stream"),
                ("Upload-Offset", "0"),
                ("Content-Length", str(len(self.data))),
            ):
                conn.putheader(name, value)
            conn.endheaders()
            conn.send(self.data[: self.head])
            self.sent = self.head
            while self.sent < len(self.data) and not self.halt.wait(0.1):
                conn.send(self.data[self.sent : self.sent + 1024])
                self.sent += len(self.data[self.sent : self.sent + 1024])
        except OSError as exc:  # the server closed the connection: what this test expects
            self.error = exc
        finally:
            conn.close()


def _request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def test_sigterm_cuts_a_trickling_chunk_at_the_bound_and_the_upload_resumes(
    settings: Settings, tmp_path: Path
) -> None:
    data = (MEDIA / "speech" / "LJ001-0001.flac").read_bytes()  # 266 KB: 25 s at 1 KiB / 0.1 s
    head = 16 * 1024
    with session_scope(settings.database_url) as session:
        user, _ = create_user(session, "ect@school.test", "Ect", Role.ect, "pw-not-used-here")
        token = issue_token(settings, user).token
    auth = {"Authorization": f"Bearer {token}"}
    env = serve_env(settings, CLIPCOACH_SHUTDOWN_TIMEOUT_SECONDS=str(BOUND))
    serve = ServeProcess(env, tmp_path / "serve.log", with_worker=False)
    trickle: Trickle | None = None
    try:
        serve.start()
        create = {"filename": "lesson.flac", "size": len(data),
                  "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
        status, _, raw = _request(serve.port, "POST", "/api/v1/uploads",
                                  json.dumps(create).encode(),
                                  {**auth, "Content-Type": "application/json"})  # fmt: skip
        assert status == 201, raw
        upload = json.loads(raw)["id"]
        part = part_path(settings.data_dir, upload)
        trickle = Trickle(serve.port, upload, token, data, head)
        trickle.start()
        deadline = time.monotonic() + 30
        while not (part.exists() and part.stat().st_size > head):  # trickled bytes on disk
            assert time.monotonic() < deadline, serve.log_tail()
            time.sleep(0.05)
        assert serve.process is not None
        started = time.monotonic()
        serve.process.send_signal(signal.SIGTERM)
        try:
            serve.process.wait(BOUND + MARGIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve held SIGTERM past {BOUND + MARGIN} s:\n{serve.log_tail()}")
        took = time.monotonic() - started
        assert trickle.sent < len(data), "the client finished: nothing was cut off"
        trickle.halt.set()
        trickle.join(10)
        with FIGURES.open("a") as figures:
            figures.write(json.dumps({"way": "trickle", "bound": BOUND, "exit_s": round(took, 2),
                                      "sent": trickle.sent, "size": len(data)}) + "\n")  # fmt: skip
        assert took <= BOUND + MARGIN

        again = ServeProcess(env, tmp_path / "serve-again.log", with_worker=False)
        try:
            again.start()
            status, headers, raw = _request(again.port, "HEAD", f"/api/v1/uploads/{upload}",
                                            headers=auth)  # fmt: skip
            assert status == 200, raw
            offset = int(headers["upload-offset"])
            assert offset == part.stat().st_size  # the offset is what is on disk, no more
            assert head < offset <= trickle.sent
            status, headers, raw = _request(
                again.port, "PATCH", f"/api/v1/uploads/{upload}", data[offset:],
                {**auth, "Content-Type": "application/offset+octet-stream",
                 "Upload-Offset": str(offset)},
            )  # fmt: skip
            assert status == 200, raw  # the checksum of the whole file matched: the bytes are true
            assert json.loads(raw)["offset"] == len(data)
        finally:
            again.stop()
    finally:
        if trickle is not None:
            trickle.halt.set()
        serve.stop()
