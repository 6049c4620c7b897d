"""Telling a database outage (retry later) from a bug (masked), in one place."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest
import sqlalchemy as sa
from sqlalchemy import exc

from domain.database_outage import is_database_outage
from tests.live_server import free_port


def _raised(engine: sa.Engine, statement: str) -> BaseException:
    with pytest.raises(exc.DBAPIError) as raised, engine.connect() as connection:
        connection.exec_driver_sql(statement)
    return raised.value


def test_a_refused_postgresql_connection_is_an_outage() -> None:
    engine = sa.create_engine(
        f"postgresql+psycopg2://nobody@127.0.0.1:{free_port()}/none",
        connect_args={"connect_timeout": 2},
    )
    refused = _raised(engine, "SELECT 1")
    assert isinstance(refused, exc.OperationalError)
    assert is_database_outage(refused)
    assert is_database_outage(psycopg2.OperationalError("server closed the connection"))


def test_a_pool_timeout_and_a_dropped_connection_are_outages() -> None:
    assert is_database_outage(exc.TimeoutError("QueuePool limit reached"))
    assert is_database_outage(exc.DisconnectionError("gone"))
    assert is_database_outage(exc.OperationalError("SELECT 1", {}, Exception("any driver")))


def test_an_error_raised_from_an_outage_is_an_outage_too() -> None:
    try:
        try:
            raise exc.DisconnectionError("gone")
        except exc.DisconnectionError as lost:
            raise RuntimeError("could not finish") from lost
    except RuntimeError as wrapped:
        assert is_database_outage(wrapped)


def test_a_locked_sqlite_database_is_an_outage_but_bad_sql_is_a_bug(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    holder = sa.create_engine(url)
    waiter = sa.create_engine(url, connect_args={"timeout": 0})
    with holder.connect() as holding:
        holding.exec_driver_sql("BEGIN IMMEDIATE")
        locked = _raised(waiter, "BEGIN IMMEDIATE")
        holding.exec_driver_sql("ROLLBACK")
    assert is_database_outage(locked)
    assert not is_database_outage(_raised(waiter, "SELEKT 1"))
    assert not is_database_outage(_raised(waiter, "SELECT * FROM no_such_table"))


def test_bugs_and_refusals_are_not_outages() -> None:
    assert not is_database_outage(ValueError("a bug"))
    assert not is_database_outage(exc.IntegrityError("INSERT", {}, ValueError("duplicate")))
    assert not is_database_outage(None)


def test_a_statement_timeout_is_a_failure_not_an_outage(postgresql_url: str) -> None:
    """PostgreSQL reports a cancelled statement as an OperationalError too: retrying it as if
    the server were away would never end (a chunk of the daily close would loop forever)."""
    engine = sa.create_engine(postgresql_url)
    try:
        timed_out = _raised(engine, "SET statement_timeout = 1; SELECT pg_sleep(1)")
    finally:
        engine.dispose()
    assert isinstance(timed_out, exc.OperationalError)
    assert not is_database_outage(timed_out)
