"""The API tidies abandoned upload files on its own host while it runs (see api/housekeeping)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from models.settings import Settings
from models.upload import uploads_dir


def _stray(folder: Path, name: str, hours_old: float) -> Path:
    path = folder / name
    path.write_bytes(b"part of a lesson")
    then = time.time() - hours_old * 3600
    os.utime(path, (then, then))
    return path


def test_a_running_api_removes_old_stray_upload_files_and_keeps_fresh_ones(
    settings: Settings,
) -> None:
    folder = uploads_dir(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    old = _stray(folder, ".multipart-7-dead.part", hours_old=settings.upload_abandon_hours + 1)
    fresh = _stray(folder, "0a1b2c.part", hours_old=0)
    app = create_app()
    app.state.housekeeping_delay = 0.0
    app.state.housekeeping_interval = 0.05
    with TestClient(app) as client:
        deadline = time.monotonic() + 10
        while old.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/api/v1/health").status_code == 200
    assert not old.exists()
    assert fresh.exists()


def test_housekeeping_waits_before_its_first_round(settings: Settings) -> None:
    """Starting (and stopping) the API does no housekeeping work before the first delay."""
    folder = uploads_dir(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    old = _stray(folder, ".multipart-8-dead.part", hours_old=settings.upload_abandon_hours + 1)
    with TestClient(create_app()) as client:
        assert client.get("/api/v1/health").status_code == 200
    assert old.exists()
