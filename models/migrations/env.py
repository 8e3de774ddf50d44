"""Alembic environment: the URL comes from the caller (models.migrate) or from settings."""

from __future__ import annotations

from alembic import context

import models  # noqa: F401 - registers every table
from models.db import Base, make_engine
from models.search import compared_by_alembic
from models.settings import get_settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_offline() -> None:
    """`alembic upgrade --sql`: the DDL as a script, e.g. the oldest-schema fixtures in tests."""
    context.configure(
        url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
            # the full-text index is made per dialect by hand (models.search), not from models
            include_name=compared_by_alembic,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run()
