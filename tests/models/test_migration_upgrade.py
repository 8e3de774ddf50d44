"""A deployment created by the oldest released schema upgrades to head and matches the models.

The fixture is the DDL revision 0001 wrote when it was released (tests/data/schema/), not whatever
0001 writes today, so a rewritten 0001 fails here twice: its DDL no longer equals the fixture, and
a database built from the fixture no longer upgrades to the models. Rows are in the tables first,
so a later revision that adds a NOT NULL column without a default fails as it would in production.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

import models  # noqa: F401 - registers every table on Base.metadata
from models.db import Base, make_engine, reset_engines
from models.migrate import alembic_config, upgrade
from models.search import compared_by_alembic

SCHEMA = Path(__file__).parents[1] / "data" / "schema"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def dialect_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", f"sqlite:///{tmp_path / 'oldest.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return "postgresql", url


def _oldest_ddl(dialect: str) -> str:
    return (SCHEMA / f"0001_initial.{dialect}.sql").read_text()


def _trimmed(sql: str) -> str:
    return "\n".join(line.rstrip() for line in sql.splitlines()).strip()


def _run_script(engine: Engine, script: str) -> None:
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if engine.dialect.name == "sqlite":
            driver.executescript(script)  # type: ignore[union-attr]
        else:
            driver.autocommit = True  # type: ignore[union-attr]  # the script has its own BEGIN
            driver.execute(script)  # type: ignore[union-attr]
    finally:
        raw.close()


def _fill(engine: Engine) -> None:
    """One of each core row, in the 0001 columns, as a deployment of that release holds them."""
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into users (id, email, name, role, password_hash, active, created_at) "
                "values ('u1', 'ect@school.example', 'An ECT', 'ect', 'x', :yes, :now)"
            ),
            {"yes": True, "now": now},
        )
        connection.execute(
            text(
                "insert into lessons (id, owner_id, title, source_filename, source_key, "
                "source_size, source_sha256, status, progress, warnings, transcribe, options, "
                "created_at, updated_at) values ('l1', 'u1', 'Fractions', 'a.mp4', "
                "'lessons/l1/source.mp4', 10, :sha, 'ready', 100, '[]', :yes, '{}', :now, :now)"
            ),
            {"sha": "0" * 64, "yes": True, "now": now},
        )
        connection.execute(
            text(
                'insert into clips (id, lesson_id, author_id, title, note, start, "end", '
                "created_at, updated_at, render_status) values ('c1', 'l1', 'u1', 'Hinge "
                "question', '', 1.5, 9.0, :now, :now, 'none')"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                'insert into uploads (id, owner_id, filename, size, "offset", created_at, '
                "updated_at) values ('up1', 'u1', 'b.mp4', 100, 40, :now, :now)"
            ),
            {"now": now},
        )


def test_revision_0001_still_writes_the_released_schema() -> None:
    for dialect, url in [("sqlite", "sqlite://"), ("postgresql", "postgresql+psycopg://x@y/z")]:
        config = alembic_config(url)
        buffer = io.StringIO()
        config.output_buffer = buffer
        command.upgrade(config, "0001", sql=True)
        assert _trimmed(buffer.getvalue()) == _trimmed(_oldest_ddl(dialect)), (
            f"0001_initial writes different {dialect} DDL than it was released with: released "
            "revisions are never edited (models/migrations/README.md)"
        )


def test_oldest_released_database_upgrades_to_head(dialect_url: tuple[str, str]) -> None:
    dialect, url = dialect_url
    engine = make_engine(url)
    try:
        _run_script(engine, _oldest_ddl(dialect))
        _fill(engine)
    finally:
        engine.dispose()

    upgrade(url)

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": compared_by_alembic}
            )
            head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
            assert context.get_current_heads() == (head,)
            assert list(compare_metadata(context, Base.metadata)) == [], (
                "upgrading the oldest released schema does not reach the models: a model "
                "changed without a migration, or a migration assumes a fresh database"
            )
            for table, key in [("users", "u1"), ("lessons", "l1"), ("clips", "c1")]:
                query = text(f"select id from {table}")
                assert connection.execute(query).scalars().all() == [key]
            assert connection.execute(text('select "offset" from uploads')).scalar() == 40
    finally:
        engine.dispose()
        reset_engines()
