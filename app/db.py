"""Engines and session factories for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from domain.unit_of_work import track_outbox

SQLITE_BUSY_TIMEOUT_MS = 15_000


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling starts a transaction only at the first write,
    # so reads before it see no lock and a savepoint can commit on release. Lendgraph
    # begins every transaction itself instead (see `_begin_immediately`).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediately(connection: Any) -> None:
    """SQLite has no row locks: a transaction takes the database's write lock when it
    begins, so use cases run one at a time and what one reads is still true when it
    writes (the embedded mode's stand-in for PostgreSQL's `SELECT ... FOR UPDATE`)."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, pool_size: int = 16) -> Engine:
    """An engine for `url`; PostgreSQL's pool matches the request thread limit."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=4,
            connect_args={"check_same_thread": False, "timeout": 15},
        )
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_immediately)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=4,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"application_name": "lendgraph", "connect_timeout": 5},
    )


@contextmanager
def migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction to migrate in. A batch migration on SQLite copies a
    table and drops the old one, which enforced foreign keys refuse while other rows refer
    to it; so they are off while migrating (SQLite ignores that inside a transaction) and
    every reference is checked before the commit instead."""
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        raw: Any = connection.connection.driver_connection
        if sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"rows refer to rows that are gone: {broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(engine, class_=Session, expire_on_commit=False, autoflush=True)
    track_outbox(factory)
    return factory
