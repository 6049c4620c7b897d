"""Issue 21, point 4: with the database unreachable, GraphQL answers a typed, retryable
SERVICE_UNAVAILABLE (HTTP 503 under application/graphql-response+json, 200 under
application/json), never INTERNAL_ERROR; a payment retried with the same idempotency key
once the database is back is booked exactly once.

The database is a private PostgreSQL cluster of these tests, stopped and started again
(a fast shutdown, as in a restart: every open connection is cut)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.exc import PendingRollbackError
from sqlmodel import func, select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

import resolvers.payments
from app.asgi import create_app
from app.migrations import migrate
from domain.payments import Payment
from schema.build import failure_error
from tests.api.test_loans import apply
from tests.api.test_payments_api import PAY, customer
from tests.conftest import LOGIN, make_settings
from tests.databases import empty_all_tables
from tests.live_server import GraphQLClient, GraphQLResponse, LiveServer
from tests.postgres_server import PrivatePostgres

GRAPHQL_RESPONSE = {"accept": "application/graphql-response+json, application/json;q=0.9"}
ME = "{ me { id username } }"


@pytest.fixture(scope="module")
def database() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    cluster.start()
    try:
        migrate(cluster.url)
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="module")
def server(database: PrivatePostgres) -> Iterator[LiveServer]:
    with LiveServer(create_app(make_settings(database.url))) as live:
        yield live


@pytest.fixture
def client(server: LiveServer, database: PrivatePostgres) -> Iterator[GraphQLClient]:
    server.runtime.make_current()
    empty_all_tables(server.runtime.engine)
    client = GraphQLClient(server.url)
    yield client
    client.close()


@pytest.fixture
def asha(client: GraphQLClient) -> str:
    def login(username: str, password: str) -> dict[str, Any]:
        answer = client.execute(LOGIN, {"username": username, "password": password})
        return dict(answer.data["login"])

    return customer(client, login, "asha", "+919800000001")


def _loan(client: GraphQLClient, token: str) -> str:
    made = apply(
        client,
        token,
        "outage-loan-1",
        productCode="PERSONAL_EMI",
        amount="50000",
        interestRate="14",
        tenure=6,
    )
    return str(made["loan"]["id"])


def _pay(client: GraphQLClient, token: str, loan_id: str, **headers: str) -> GraphQLResponse:
    request = {"loanId": loan_id, "amount": "1000", "idempotencyKey": "outage-pay-1"}
    return client.execute(PAY, {"input": request}, token=token, headers=headers)


def _unavailable(response: GraphQLResponse) -> None:
    """The one error is SERVICE_UNAVAILABLE, retryable, with the request id; no bug is told."""
    [error] = response.errors
    assert error["extensions"] == {
        "code": "SERVICE_UNAVAILABLE",
        "retryable": True,
        "requestId": response.headers["x-request-id"],
    }
    assert "retry" in error["message"] and "INTERNAL_ERROR" not in str(response.body)


def _as_json(response: GraphQLResponse) -> None:
    _unavailable(response)
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert response.body["data"] is None


def _as_graphql_response(response: GraphQLResponse) -> None:
    _unavailable(response)
    assert response.status == 503
    assert response.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    assert response.headers["retry-after"] == "2"
    assert "data" not in response.body  # the operation did not run: a failed request


def _payments(server: LiveServer) -> int:
    with server.runtime.session_factory() as session:
        return int(session.exec(select(func.count()).select_from(Payment)).one())


def test_with_the_database_down_queries_and_payments_are_retryable_and_a_retry_pays_once(
    server: LiveServer, client: GraphQLClient, database: PrivatePostgres, asha: str
) -> None:
    loan_id = _loan(client, asha)
    database.stop()
    try:
        _as_json(client.execute(ME, token=asha))
        _as_graphql_response(client.execute(ME, token=asha, headers=GRAPHQL_RESPONSE))
        anonymous = {"username": "asha", "password": "a long password"}
        _as_json(client.execute(LOGIN, anonymous))  # fails inside execution, not before
        _as_graphql_response(client.execute(LOGIN, anonymous, headers=GRAPHQL_RESPONSE))
        _as_json(_pay(client, asha, loan_id))
        _as_graphql_response(_pay(client, asha, loan_id, **GRAPHQL_RESPONSE))
    finally:
        database.start()

    paid = _pay(client, asha, loan_id, **GRAPHQL_RESPONSE)
    again = _pay(client, asha, loan_id)

    assert paid.status == 200
    assert paid.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    assert paid.data["makePayment"]["__typename"] == "Payment"
    assert again.data["makePayment"]["id"] == paid.data["makePayment"]["id"]
    assert _payments(server) == 1
    assert client.execute(ME, token=asha).data["me"]["username"] == "asha"


def test_live_updates_say_when_to_come_back_while_the_database_is_down(
    server: LiveServer, database: PrivatePostgres, asha: str
) -> None:
    """A websocket signing in closes with 1013 (try again later), not a dropped connection;
    once the database is back the same token signs in."""
    url = server.url.replace("http://", "ws://") + "/graphql"
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {asha}"}}
    database.stop()
    try:
        with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5) as ws:
            ws.send(json.dumps(init))
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
    finally:
        database.start()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5) as ws:
        ws.send(json.dumps(init))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"


def test_a_payment_committed_just_before_the_database_went_away_is_retried_safely(
    server: LiveServer,
    client: GraphQLClient,
    database: PrivatePostgres,
    asha: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The issue's case: the payment is committed, then the database goes before the answer
    is read back. The client is told to retry, and the retry returns the same payment."""
    loan_id = _loan(client, asha)
    commit = resolvers.payments.run_use_case

    def committed_then_database_lost(*args: Any) -> Any:
        result = commit(*args)
        database.stop()
        return result

    monkeypatch.setattr(resolvers.payments, "run_use_case", committed_then_database_lost)
    try:
        lost = _pay(client, asha, loan_id)
    finally:
        monkeypatch.undo()
        database.start()
    _as_json(lost)
    assert _payments(server) == 1  # it was booked

    retried = _pay(client, asha, loan_id)

    assert retried.data["makePayment"]["__typename"] == "Payment"
    assert retried.data["makePayment"]["amount"] == {"amount": "1000.00"}
    assert _payments(server) == 1


def test_a_connection_lost_in_the_middle_of_an_operation_is_retryable(
    server: LiveServer, client: GraphQLClient, asha: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends the operation's connection (as a failover or an administrator does)
    while the payment is being made; the database itself stays up."""
    loan_id = _loan(client, asha)

    def connection_lost(context: Any, _use_case: Any) -> Any:
        context.db.connection().exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
        raise AssertionError("the connection should have been lost")

    monkeypatch.setattr(resolvers.payments, "run_use_case", connection_lost)
    _as_graphql_response(_pay(client, asha, loan_id, **GRAPHQL_RESPONSE))
    monkeypatch.undo()

    retried = _pay(client, asha, loan_id)
    assert retried.data["makePayment"]["__typename"] == "Payment"
    assert _payments(server) == 1


def test_a_bug_is_still_masked_as_internal_error_not_unavailable(
    client: GraphQLClient, asha: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*_: Any) -> Any:
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(resolvers.payments, "run_use_case", bug)
    response = _pay(client, asha, "TG9hbjox", **GRAPHQL_RESPONSE)
    [error] = response.errors
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    assert "retryable" not in error["extensions"]
    assert response.status == 200


def test_a_session_refusing_to_go_on_after_a_lost_connection_is_the_same_outage() -> None:
    """Resolvers after the one that lost the connection find the session waiting for a
    rollback; in an operation that lost its database that is the outage, not a bug."""
    refused = PendingRollbackError("Can't reconnect until invalid transaction is rolled back")
    assert failure_error(refused, "r-1", outage=True).extensions == {
        "code": "SERVICE_UNAVAILABLE",
        "retryable": True,
        "requestId": "r-1",
    }
    assert failure_error(refused, "r-1").extensions == {
        "code": "INTERNAL_ERROR",
        "requestId": "r-1",
    }
