"""Throwaway databases: one per backend per test session, migrated, emptied between tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from app.migrations import migrate
from domain import registry  # noqa: F401
from tests.services import IN_CI, PG_ADMIN_URL, RUN_ID


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


PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


class PrivatePostgres:
    """A PostgreSQL cluster of a test's own, on a free port, that the test may stop and start
    again to play an outage; the shared server is never touched. As root, the cluster runs as
    the `postgres` user (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        from tests.live_server import free_port

        if not (PG_BIN / "initdb").exists():
            (pytest.fail if IN_CI else pytest.skip)(f"no PostgreSQL binaries in {PG_BIN}")
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="lendgraph-pg-"))  # /tmp: postgres can reach
        self.data = self.folder / "data"
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_postgres, *command], check=True, capture_output=True, timeout=60)

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -h 127.0.0.1 -c fsync=off -c full_page_writes=off"
        )
        log = str(self.folder / "server.log")  # also keeps the server off this process's pipes
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        """Stop at once, cutting every connection, as a crash or a failover would."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()  # already stopped: nothing to do
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private, migrated cluster, removed afterwards."""
    server = PrivatePostgres()
    try:
        server.create()
        server.start()
        migrate(server.url)
        yield server
    finally:
        server.destroy()
