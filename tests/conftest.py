"""Shared fixtures: each core test runs against SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from app.asgi import create_app
from app.db import make_engine, make_session_factory
from app.settings import Settings
from domain.users import Role, create_user
from tests.databases import (
    assert_ledger_balances,
    empty_all_tables,
    postgres_database,
    sqlite_database,
)
from tests.live_server import GraphQLClient, LiveServer
from tests.password_work import PasswordWorkSpy
from tests.services import PG_ADMIN_URL, RUN_ID, require

BACKENDS = ["sqlite", "postgresql"]
TEST_SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "REDIS_URL": None,
        "JWT_SECRET": TEST_SECRET,
        "LOG_JSON": True,
        "EMBEDDED_SCHEDULER": False,
        "QUEUE_NAMESPACE": f"lendgraph-test-{RUN_ID}",
        "WORKER_THREADS": 8,
        # Every request reads its user's row, so statement counts do not depend on timing;
        # tests/api/test_sign_out.py serves with the cache on, as production does.
        "SIGN_IN_CACHE_SECONDS": 0,
        # One server answers every test from 127.0.0.1: budgets of anonymous attempts are
        # tested on servers of their own (tests/api/test_attempt_budgets.py).
        "RATE_LIMIT_PER_ADDRESS": "1000000/minute",
        "RATE_LIMIT_PER_USERNAME": "1000000/minute",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    require(PG_ADMIN_URL, "PostgreSQL")
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sqlite_database(tmp_path_factory.mktemp("sqlite")) as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url, pool_size=20)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: sa.Engine) -> Iterator[sessionmaker[Session]]:
    empty_all_tables(engine)
    yield make_session_factory(engine)
    assert_ledger_balances(engine)  # what `lendgraph ledger verify` checks, after every test


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[LiveServer]:
    with LiveServer(create_app(make_settings(database_url))) as live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[GraphQLClient]:
    server.runtime.make_current()  # jobs run against this server (others may have been built)
    empty_all_tables(server.runtime.engine)
    client = GraphQLClient(server.url)
    yield client
    client.close()
    assert_ledger_balances(server.runtime.engine)


@pytest.fixture
def make_user(server: LiveServer) -> Any:
    def make(username: str, role: Role = Role.CUSTOMER, password: str = PASSWORD) -> int:
        with server.runtime.session_factory() as session:
            user = create_user(session, username, password, role)
            session.commit()
            assert user.id is not None
            return user.id

    return make


@pytest.fixture
def password_work(monkeypatch: pytest.MonkeyPatch) -> Iterator[PasswordWorkSpy]:
    """Counts (and can hold) every password hash and verification, in any server thread."""
    from domain import passwords

    spy = PasswordWorkSpy(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", spy)
    yield spy
    spy.gate.set()  # never leave a server thread waiting


LOGIN = """
mutation Login($username: String!, $password: String!) {
  login(input: {username: $username, password: $password}) {
    __typename
    ... on AuthTokens { accessToken refreshToken viewer { id username role } }
    ... on Error { code message }
    ... on TooManyLoginAttemptsError { retryAfterSeconds }
  }
}
"""


@pytest.fixture
def login(client: GraphQLClient) -> Any:
    def sign_in(username: str, password: str = PASSWORD) -> dict[str, Any]:
        return client.execute(LOGIN, {"username": username, "password": password}).data["login"]

    return sign_in


@pytest.fixture
def fund_pool(server: LiveServer) -> Any:
    """Put money in the providers' pool (RULES.md §2) through one funded provider."""
    from domain.idempotency import SYSTEM_REQUESTER
    from domain.money import Money
    from domain.providers import move_funds, register_provider
    from domain.tables import utcnow

    def fund(amount: str = "100000", name: str = "pool_provider") -> None:
        with server.runtime.session_factory() as session:
            provider = register_provider(
                session,
                username=name,
                password="long enough pass",
                name=name,
                currency="INR",
                now=utcnow(),
            )
            move_funds(
                session,
                provider,
                kind="ADD",
                amount=Money.of(amount, "INR"),
                source=None,
                key=f"pool-seed-{name}",
                requested_by=SYSTEM_REQUESTER,
                now=utcnow(),
            )
            session.commit()

    return fund
