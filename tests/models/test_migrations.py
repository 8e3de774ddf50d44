"""The same migrations on SQLite and PostgreSQL: up to head, schema equal to the models, down to
base, and up again. PostgreSQL gets a fresh database per test (tests.services.postgres_url)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import models  # noqa: F401 - registers every table on Base.metadata
from models.db import Base, dispose_engines, make_engine, reset_engines
from models.migrate import MIGRATIONS, alembic_config, downgrade, upgrade
from models.search import compared_by_alembic, is_search_table


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrate.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": compared_by_alembic}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    """The tables, without the full-text index (per dialect, not on Base.metadata)."""
    engine = make_engine(url)
    try:
        return {t for t in inspect(engine).get_table_names() if not is_search_table(t)}
    finally:
        engine.dispose()


def _all_tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_matches_models_and_downgrades_cleanly(empty_database: str) -> None:
    url = empty_database
    assert _tables(url) == set()

    upgrade(url)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert (
                connection.execute(text("select version_num from alembic_version")).scalar() == head
            )
    finally:
        engine.dispose()
    assert _tables(url) == set(Base.metadata.tables) | {"alembic_version"}
    assert _differences(url) == [], "a model changed without a migration"
    assert "transcript_search" in _all_tables(url)

    downgrade(url, "base")
    assert _tables(url) <= {"alembic_version"}
    assert _all_tables(url) <= {"alembic_version"}

    upgrade(url)  # and back up: downgrade left nothing in the way
    assert _differences(url) == []
    reset_engines()


def test_migrations_folder_is_the_one_alembic_uses() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@pytest.mark.services
def test_postgres_engine_pool_and_fork_safety(postgres_url: str) -> None:
    """PostgreSQL engines use psycopg 3, a pre-ping pool, and are forgotten on reset_engines()
    so a forked worker process opens its own connections."""
    from models.db import get_engine

    upgrade(postgres_url)
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    for url in (postgres_url, plain, plain.replace("postgresql://", "postgres://")):
        engine = make_engine(url)
        try:
            assert engine.dialect.driver == "psycopg"
            assert engine.pool._pre_ping  # type: ignore[attr-defined]
            with engine.connect() as connection:
                assert connection.execute(text("show application_name")).scalar() == "clipcoach"
        finally:
            engine.dispose()
    first = get_engine(postgres_url)
    assert get_engine(postgres_url) is first
    reset_engines()
    assert get_engine(postgres_url) is not first
    dispose_engines()
