"""`clipcoach serve` keeps an idle client connection open well past uvicorn's 5 s default
(workers.cli.KEEP_ALIVE_SECONDS), as a real subprocess: a reader (or a proxy) that reuses its
connection after a pause gets an answer, not a connection closed under its request."""

from __future__ import annotations

import http.client
import time
from pathlib import Path

from models.settings import Settings
from tests.services import LOOPBACK, ServeProcess, serve_env

PAUSE = 7.0
"""Longer than uvicorn's default keep-alive (5 s), far shorter than ours (75 s)."""


def test_a_connection_reused_after_a_pause_is_still_answered(
    settings: Settings, tmp_path: Path
) -> None:
    serve = ServeProcess(serve_env(settings), tmp_path / "serve.log", with_worker=False)
    try:
        serve.start()
        connection = http.client.HTTPConnection(LOOPBACK, serve.port, timeout=10)
        connection.request("GET", "/api/v1/health")
        first = connection.getresponse()
        first.read()
        assert first.status == 200
        time.sleep(PAUSE)
        connection.request("GET", "/api/v1/health")  # the same socket: no reconnect
        second = connection.getresponse()
        second.read()
        assert second.status == 200, serve.log_tail()
        connection.close()
    finally:
        serve.stop()
