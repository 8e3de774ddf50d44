"""Fixtures every test package may use: isolated settings and database, and a guard on ERROR logs.

`settings` points every backend at a fresh temporary data_dir (SQLite, local storage, filesystem
broker) and migrates the database, so tests never share state or touch `var/`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.db import reset_engines
from models.settings import Settings, get_settings

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO / "tests" / "data"


@pytest.fixture(autouse=True)
def _fail_on_error_logs(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """An ERROR logged during a test is a bug unless the test says it expects one."""
    caplog.set_level(logging.WARNING)
    yield
    if request.node.get_closest_marker("logs_errors"):
        return
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    if errors:
        pytest.fail("ERROR logged: " + "; ".join(r.getMessage() for r in errors[:3]))


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Embedded-default settings in a private folder, with the database migrated to head."""
    from models.migrate import upgrade

    monkeypatch.setenv("CLIPCOACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLIPCOACH_SECRET_KEY", "test-secret-key-that-is-long-enough-for-hs256")
    monkeypatch.setenv("CLIPCOACH_SEED_DEMO", "false")
    get_settings.cache_clear()
    reset_engines()
    current = get_settings()
    upgrade(current.database_url)
    yield current
    reset_engines()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def shared_media() -> Path:
    """The real recordings the suite ships in tests/data (licences and provenance beside them)."""
    assert MEDIA.is_dir(), f"expected real test media at {MEDIA}"
    return MEDIA
