"""One resumable upload through two API processes (uvicorn on loopback) on one PostgreSQL and one
S3: chunks sent alternately to each make one lesson with exactly the bytes sent, and a chunk at
an offset another process is still writing is 409 there (the claim lives in the database, not in
a process).

Each process has its own data folder, as two API hosts do: with S3 storage every chunk is stored
as a part in the bucket (models/upload.py), so neither host's disk holds the upload, and the
lesson is made from the parts whichever host took which chunk.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.account import Role
from models.accounts import create_user, issue_token
from models.db import session_scope
from models.lesson import Lesson
from models.settings import Settings
from models.storage import open_storage
from models.upload import Upload, parts_prefix
from tests.mediafactory import make_video

pytestmark = pytest.mark.services


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_api(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--lifespan", "off"]
    with open(log, "ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_up(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    pytest.fail(f"API on {port} did not start:\n{log.read_text()}")


def call(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    raw = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, raw


def claim_of(settings: Settings, upload_id: str) -> str | None:
    with session_scope(settings.database_url) as session:
        upload = session.get(Upload, upload_id)
        assert upload is not None
        return upload.writer


@pytest.fixture
def two_apis(scaleout: Settings, tmp_path: Path) -> Iterator[tuple[int, int, dict[str, str]]]:
    import os

    with session_scope(scaleout.database_url) as session:
        user, _ = create_user(session, "ect@school.test", "ECT", Role.ect)
        session.flush()
        token = issue_token(scaleout, user).token
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    ports = free_port(), free_port()
    procs = [
        start_api(
            {**env, "CLIPCOACH_DATA_DIR": str(tmp_path / f"host-{n}")},
            port,
            tmp_path / f"api-{port}.log",
        )
        for n, port in enumerate(ports)
    ]
    try:
        for port, proc in zip(ports, procs, strict=True):
            wait_up(port, proc, tmp_path / f"api-{port}.log")
        yield ports[0], ports[1], {"Authorization": f"Bearer {token}"}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def test_chunks_alternating_between_two_api_processes_make_one_lesson(
    two_apis: tuple[int, int, dict[str, str]], scaleout: Settings, tmp_path: Path
) -> None:
    a, b, auth = two_apis
    storage = open_storage(scaleout.storage_url)
    data = make_video(tmp_path / "lesson.mp4", duration=3.0).path.read_bytes()
    status, _, raw = call(
        a, "POST", "/api/v1/uploads",
        json.dumps({"filename": "lesson.mp4", "size": len(data)}).encode(),
        {**auth, "Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 201, raw
    upload = json.loads(raw)["id"]
    step = max(1, len(data) // 6)
    offset, turn = 0, 0
    while offset < len(data):
        port = (a, b)[turn % 2]
        chunk = data[offset : offset + step]
        status, headers, raw = call(
            port, "PATCH", f"/api/v1/uploads/{upload}", chunk,
            {**auth, "Upload-Offset": str(offset),
             "Content-Type": "application/offset+octet-stream"},
        )  # fmt: skip
        assert status == 200, raw
        offset += len(chunk)
        assert headers["upload-offset"] == str(offset)
        # the chunks are in the shared bucket, not on either host's disk
        assert len(storage.list_keys(parts_prefix(upload))) == turn + 1
        assert not list(tmp_path.glob("host-*/uploads/*.part"))
        # the other process knows the new offset at once
        _, other, _ = call((b, a)[turn % 2], "HEAD", f"/api/v1/uploads/{upload}", None, auth)
        assert other["upload-offset"] == str(offset)
        turn += 1
    status, _, raw = call(
        b, "POST", "/api/v1/lessons", json.dumps({"upload_id": upload}).encode(),
        {**auth, "Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 201, raw
    lesson_id = json.loads(raw)["id"]
    with session_scope(scaleout.database_url) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        key = lesson.source_key
    assert storage.get_bytes(key) == data
    assert storage.list_keys(parts_prefix(upload)) == []  # the parts went with the upload


def test_a_chunk_another_process_is_writing_is_409(
    two_apis: tuple[int, int, dict[str, str]], scaleout: Settings, tmp_path: Path
) -> None:
    a, b, auth = two_apis
    data = make_video(tmp_path / "lesson.mp4", duration=2.0).path.read_bytes()
    status, _, raw = call(
        a, "POST", "/api/v1/uploads",
        json.dumps({"filename": "lesson.mp4", "size": len(data)}).encode(),
        {**auth, "Content-Type": "application/json"},
    )  # fmt: skip
    upload = json.loads(raw)["id"]
    # a slow client: headers and the first bytes to A, then a pause mid-chunk
    slow = socket.create_connection(("127.0.0.1", a), timeout=30)
    head = (
        f"PATCH /api/v1/uploads/{upload} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {auth['Authorization']}\r\nUpload-Offset: 0\r\n"
        f"Content-Type: application/offset+octet-stream\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    slow.sendall(head.encode() + data[:1000])
    try:
        deadline = time.monotonic() + 10
        while claim_of(scaleout, upload) is None:  # until A holds the claim
            assert time.monotonic() < deadline, "A never claimed the chunk"
            time.sleep(0.05)
        status, headers, raw = call(
            b, "PATCH", f"/api/v1/uploads/{upload}", data,
            {**auth, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        )  # fmt: skip
        assert status == 409, raw
        assert b"still arriving" in raw
        slow.sendall(data[1000:])
        answer = slow.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    finally:
        slow.close()
    _, headers, _ = call(b, "HEAD", f"/api/v1/uploads/{upload}", None, auth)
    assert headers["upload-offset"] == str(len(data))
