"""Integration tests run against the real services on loopback (see tests/services.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from models.db import dispose_engines, reset_engines
from models.migrate import upgrade
from models.settings import Settings, get_settings
from tests.services import (  # noqa: F401 - fixtures pytest finds by name
    postgres_url,
    redis_broker_url,
    s3_server,
    s3_url,
    scaleout_env,
)


@pytest.fixture
def scaleout(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_url: str,  # noqa: F811 - the fixture imported above, requested by name
    s3_url: str,  # noqa: F811
    redis_broker_url: str,  # noqa: F811
) -> Iterator[Settings]:
    """This test process and its workers on PostgreSQL, S3 and Redis (nothing embedded)."""
    env = scaleout_env(
        tmp_path / "data",
        database_url=postgres_url,
        storage_url=s3_url,
        broker_url=redis_broker_url,
    )
    for key, value in env.items():
        if key.startswith("CLIPCOACH_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    reset_engines()
    settings = get_settings()
    upgrade(settings.database_url)  # before the workers start, so they find it up to date
    yield settings
    dispose_engines()
    get_settings.cache_clear()
