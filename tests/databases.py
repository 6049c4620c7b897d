"""Throwaway databases: one per backend per test session, migrated, emptied between tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from app.migrations import migrate
from domain import registry  # noqa: F401
from tests.services import PG_ADMIN_URL, RUN_ID


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    name = f"lendgraph_test_{RUN_ID}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    url = f"sqlite:///{folder / 'lendgraph-test.db'}"
    migrate(url)
    yield url


# Rows the migrations ship (the product catalogue): kept as migrated, restored after emptying.
REFERENCE_TABLES = ("loan_products", "bank_config")
_reference_rows: dict[str, dict[str, list[dict[str, object]]]] = {}


def _reference(engine: sa.Engine) -> dict[str, list[dict[str, object]]]:
    key = engine.url.render_as_string(hide_password=False)
    if key not in _reference_rows:
        with engine.connect() as connection:
            _reference_rows[key] = {
                name: [
                    dict(row._mapping)
                    for row in connection.execute(sa.select(SQLModel.metadata.tables[name]))
                ]
                for name in REFERENCE_TABLES
            }
    return _reference_rows[key]


def assert_ledger_balances(engine: sa.Engine) -> None:
    """What `lendgraph ledger verify` checks, after every test's scenario."""
    from sqlmodel import Session

    from domain.ledger import verify_ledger

    with Session(engine) as session:
        problems = verify_ledger(session)
    assert problems == [], f"the ledger does not verify after the last test: {problems}"


def empty_all_tables(engine: sa.Engine) -> None:
    """Every table as just migrated: empty, but for the shipped reference rows."""
    reference = _reference(engine)
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(sa.text(f"DELETE FROM {table}"))
        for name, rows in reference.items():
            if rows:
                connection.execute(sa.insert(SQLModel.metadata.tables[name]), rows)
            if rows and engine.dialect.name == "postgresql" and name == "loan_products":
                connection.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence('loan_products', 'id'), "
                        "(SELECT MAX(id) FROM loan_products))"
                    )
                )
