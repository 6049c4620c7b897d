"""Sign-in cannot crowd out signed-in users: one sign-in field per operation, refused before
any password is checked, and password work on threads of its own."""

import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app.asgi import create_app
from domain.users import Role, create_user
from schema.build import SchemaLimits, build_schema
from tests.conftest import LOGIN, PASSWORD, make_settings
from tests.databases import empty_all_tables
from tests.live_server import GraphQLClient, LiveServer
from tests.password_work import PasswordWorkSpy

SIGN_IN = 'login(input: {username: "%s", password: "wrong password"}) { __typename }'
SIGN_UP = """registerCustomer(input: {firstName: "Asha", lastName: "Rao", phone: "%s",
  age: 34, monthlyIncome: "50000", username: "%s", password: "a long password"}) {
  __typename }"""
REFRESH = 'refreshToken(input: {refreshToken: "%s"}) { __typename }'
REFUSED_DOCUMENTS = {
    "aliased logins": f"mutation {{ a: {SIGN_IN % 'asha'} b: {SIGN_IN % 'ravi'} }}",
    "login and sign-up": f"mutation {{ {SIGN_IN % 'asha'} {SIGN_UP % ('+919800000001', 'x1')} }}",
    "two refreshes": f"mutation {{ a: {REFRESH % 't1'} b: {REFRESH % 't2'} }}",
    "logins in fragments": (
        f"mutation {{ ...A ... on Mutation {{ b: {SIGN_IN % 'ravi'} }} }} "
        f"fragment A on Mutation {{ ...B }} fragment B on Mutation {{ a: {SIGN_IN % 'asha'} }}"
    ),
}


@pytest.mark.parametrize("document", REFUSED_DOCUMENTS.values(), ids=REFUSED_DOCUMENTS.keys())
def test_an_operation_with_two_sign_ins_is_refused_before_any_password_work(
    client: GraphQLClient, make_user: Any, password_work: PasswordWorkSpy, document: str
) -> None:
    make_user("asha")
    password_work.calls = 0
    response = client.execute(document)
    assert response.body.get("data") is None
    assert [e["extensions"]["code"] for e in response.errors] == ["TOO_MANY_SIGN_IN_FIELDS"]
    assert "at most 1 of login, refreshToken, registerCustomer" in response.errors[0]["message"]
    assert password_work.calls == 0


@pytest.mark.parametrize("document", REFUSED_DOCUMENTS.values(), ids=REFUSED_DOCUMENTS.keys())
def test_the_schema_itself_refuses_two_sign_ins_in_an_operation(document: str) -> None:
    result = build_schema(SchemaLimits()).execute_sync(document)
    assert result.errors is not None
    assert [e.extensions for e in result.errors] == [{"code": "TOO_MANY_SIGN_IN_FIELDS"}]


def test_one_sign_in_per_operation_runs_even_beside_other_operations(
    client: GraphQLClient, make_user: Any, password_work: PasswordWorkSpy
) -> None:
    make_user("asha")
    password_work.calls = 0
    document = (
        f"mutation First {{ {SIGN_IN % 'asha'} }} "
        f"mutation Second {{ {SIGN_IN % 'ravi'} __typename }}"
    )
    answer = client.http.post("/graphql", json={"query": document, "operationName": "Second"})
    assert answer.json()["data"]["login"] == {"__typename": "InvalidCredentialsError"}
    assert password_work.calls == 1


@pytest.fixture(scope="module")
def narrow_server(postgresql_url: str) -> Iterator[LiveServer]:
    """Two threads for signed-in requests, one for password work (PostgreSQL: SQLite's
    single writer would hold everyone up behind a sign-in anyway)."""
    settings = make_settings(postgresql_url, WORKER_THREADS=2, SIGN_IN_THREADS=1)
    with LiveServer(create_app(settings)) as live:
        yield live


HELD_UP = {
    "logins": lambda n: f"mutation {{ {SIGN_IN % f'user{n}'} }}",
    "sign-ups": lambda n: f"mutation {{ {SIGN_UP % (f'+91980000000{n}', f'user{n}')} }}",
    "logins with a bearer token": lambda n: f"mutation {{ {SIGN_IN % f'user{n}'} }}",
}


@pytest.mark.parametrize("kind", HELD_UP.keys())
def test_signed_in_requests_are_served_while_every_sign_in_thread_is_hashing(
    narrow_server: LiveServer, password_work: PasswordWorkSpy, kind: str
) -> None:
    empty_all_tables(narrow_server.runtime.engine)
    with narrow_server.runtime.session_factory() as session:
        create_user(session, "asha", PASSWORD, Role.CUSTOMER)
        session.commit()
    client = GraphQLClient(narrow_server.url)
    variables = {"username": "asha", "password": PASSWORD}
    token = client.execute(LOGIN, variables).data["login"]["accessToken"]
    bearer = token if kind == "logins with a bearer token" else None
    password_work.gate.clear()  # from now on, every hash waits for the gate
    password_work.calls = 0
    password_work.niceness.clear()
    started = password_work.started
    while started.acquire(blocking=False):
        pass

    def sign_in(n: int) -> Any:
        other = GraphQLClient(narrow_server.url)
        try:
            return other.execute(HELD_UP[kind](n), token=bearer).body
        finally:
            other.close()

    with ThreadPoolExecutor(4) as pool:
        held = [pool.submit(sign_in, n) for n in range(4)]  # more than all the threads
        try:
            assert started.acquire(timeout=30), "no password work began"
            for _ in range(3):  # served by the ordinary threads, not queued behind hashing
                assert client.execute("{ me { username } }", token=token).data == {
                    "me": {"username": "asha"}
                }
            assert password_work.calls == 1  # one sign-in thread: the others wait their turn
        finally:
            password_work.gate.set()
        answers = [future.result(timeout=60) for future in held]
    client.close()
    assert all(answer.get("errors") is None for answer in answers), answers
    assert password_work.calls == 4
    if sys.platform == "linux":  # and on threads that yield the processors to signed-in ones
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert password_work.niceness and min(password_work.niceness) > ours
