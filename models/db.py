"""The database: declarative base, engine per URL, and sessions.

SQLite (embedded default) and PostgreSQL share every table and migration. The engine is created
lazily per process, so a forked Celery worker opens its own connections instead of inheriting the
parent's sockets (call `reset_engines()` after fork).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Every stored time is UTC, and comes back aware of it, on SQLite and PostgreSQL alike.

    The one place time zones are converted. SQLite keeps no zone: SQLAlchemy writes an aware
    value's wall-clock digits and drops its offset, so `18:00+05:00` was stored (and compared)
    as 18:00 UTC. Here a value is converted to UTC before it is bound, in a write or in a
    comparison, and every value read back carries UTC. A naive value is taken as UTC: the code's
    own times are all `utcnow()`, and the API refuses naive input (`api.schemas.AwareDateTime`).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002 - SQLAlchemy's signature; UTC is the same in every dialect
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002 - SQLAlchemy's signature; UTC is the same in every dialect
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute as is
        dict[str, Any]: JSON,
        list[str]: JSON,
        datetime: UTCDateTime(),
    }


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the API read while a worker writes; the busy timeout rides out short write locks;
    secure_delete zeroes a deleted row's bytes instead of leaving them in free pages (deletion
    for retention and erasure must not leave words in the file)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


SQLITE_POOL_SIZE = 40
"""Connections an SQLite engine may open: anyio's default thread-pool size (see make_engine)."""


def make_engine(url: str) -> Engine:
    """An engine for `url`: the one place that sets SQLite and PostgreSQL connections up differently
    (full-text search, the other difference, is models.search)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # As many connections as the API's thread pool has threads (anyio's default, 40), so a
        # request that got a thread never also queues for a connection and times out there:
        # SQLite connections are cheap file handles, and WAL lets the readers run together.
        engine = create_engine(
            url,
            pool_size=SQLITE_POOL_SIZE // 2,
            max_overflow=SQLITE_POOL_SIZE - SQLITE_POOL_SIZE // 2,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):  # psycopg 3, not SQLAlchemy's default psycopg2
            url = "postgresql+psycopg://" + url.removeprefix(plain)
    # Per process: a web worker or a Celery pool process needs a few connections, not dozens
    # (PostgreSQL's default max_connections is 100, shared by every process on every host).
    # Pre-ping and recycling ride out a restarted server or a firewall dropping idle sockets;
    # a short connect timeout turns a down database into a quick OperationalError, which the
    # stage tasks retry with backoff.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        pool_timeout=30,
        pool_recycle=1800,
        connect_args={"connect_timeout": 10, "application_name": "clipcoach"},
    )


_engines: dict[str, Engine] = {}
_sessionmakers: dict[str, sessionmaker[Session]] = {}


def get_engine(url: str) -> Engine:
    """The process's engine for `url`, made on first use."""
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def get_sessionmaker(url: str) -> sessionmaker[Session]:
    if url not in _sessionmakers:
        _sessionmakers[url] = sessionmaker(get_engine(url), expire_on_commit=False)
    return _sessionmakers[url]


def reset_engines() -> None:
    """Forget engines inherited across a fork: each process must open its own connections.

    `close=False` leaves the parent's pooled connections alone instead of closing them under it.
    """
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()
    _sessionmakers.clear()


def dispose_engines() -> None:
    """Close every pooled connection this process opened, then forget the engines (tests and
    shutdown; after a fork use `reset_engines`, which leaves the parent's sockets alone)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _sessionmakers.clear()


@contextlib.contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
