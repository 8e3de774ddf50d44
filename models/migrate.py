"""Bring a database to the newest schema with Alembic (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate to `revision`; at head also load the built-in frameworks the database lacks, here
    once, so that no request has to write them: the first requests on a new database all tried
    to, at once, and the ones that lost the race answered 500."""
    command.upgrade(alembic_config(url), revision)
    if revision == "head":
        from sqlalchemy.orm import Session

        from models.db import make_engine
        from models.framework import ensure_builtin

        engine = make_engine(url)  # its own, disposed: no pooled connection outlives the call
        try:
            with Session(engine) as session, session.begin():
                ensure_builtin(session)
        finally:
            engine.dispose()


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
