"""Subscriptions over graphql-transport-ws: who receives which loan events, and when a
connection ends. In-process server (embedded event hub), SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

import app.websocket
from domain.access_tokens import issue_access_token
from domain.tables import utcnow
from domain.users import Role
from tests.api.test_loans import apply
from tests.api.test_payments_api import customer, pay
from tests.live_server import GraphQLClient, LiveServer
from tests.services import IN_CI

PAYMENTS = """
subscription($loan: ID) { paymentReceived(loanId: $loan) {
  eventId sequence loanId loanNumber status outstanding { amount } occurredAt
  paymentId amount { amount } paidOn principal { amount } interest { amount }
  allocations { kind installmentNumber principal { amount } interest { amount } } } }
"""
UPDATES = "subscription($loan: ID) { loanUpdated(loanId: $loan) { sequence status loanNumber } }"


@contextlib.contextmanager
def open_subscription(
    server: LiveServer,
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
    max_queue: int = 16,
) -> Iterator[ClientConnection]:
    """A signed-in connection with one subscription started. The client stops reading
    from the socket once `max_queue` messages wait unread."""
    url = server.url.replace("http://", "ws://") + "/graphql"
    with connect(
        url, subprotocols=["graphql-transport-ws"], open_timeout=5, max_queue=max_queue
    ) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        ws.send(json.dumps(init))
        assert json.loads(ws.recv(timeout=5))["type"] == "connection_ack"
        start = {"query": query, "variables": variables or {}}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": start}))
        yield ws


def next_message(ws: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    return dict(json.loads(ws.recv(timeout=timeout)))


@pytest.fixture
def asha(client: GraphQLClient, login: Any) -> str:
    return customer(client, login, "asha", "+919800000001")


def emi_loan(client: GraphQLClient, token: str, key: str) -> dict[str, Any]:
    return dict(
        apply(
            client,
            token,
            key,
            productCode="PERSONAL_EMI",
            amount="50000",
            interestRate="14",
            tenure=6,
        )["loan"]
    )


def test_a_customer_receives_their_payments_with_allocation_and_sequence(
    client: GraphQLClient, server: LiveServer, asha: str
) -> None:
    loan = emi_loan(client, asha, "sub-loan-0001")
    with open_subscription(server, asha, PAYMENTS, {"loan": loan["id"]}) as ws:
        time.sleep(0.2)  # the subscription is registered with the hub
        paid = pay(client, asha, loan["id"], "1000", "sub-pay-0001")
        event = next_message(ws)["payload"]["data"]["paymentReceived"]
        assert event["loanId"] == loan["id"] and event["amount"] == {"amount": "1000.00"}
        assert event["paymentId"] == paid["id"]
        assert event["outstanding"] == paid["loan"]["outstanding"]["total"]
        assert event["allocations"][0]["installmentNumber"] == 1
        assert event["sequence"] == 2  # 1 was the loan being made
        pay(client, asha, loan["id"], "500", "sub-pay-0002")
        assert next_message(ws)["payload"]["data"]["paymentReceived"]["sequence"] == 3


def test_events_of_other_customers_never_reach_a_customer(
    client: GraphQLClient, server: LiveServer, login: Any, asha: str
) -> None:
    bob = customer(client, login, "bob", "+919800000002")
    ashas = emi_loan(client, asha, "sub-loan-0002")
    bobs = emi_loan(client, bob, "sub-loan-0003")
    with open_subscription(server, bob, "subscription { paymentReceived { loanNumber } }") as ws:
        time.sleep(0.2)
        pay(client, asha, ashas["id"], "1000", "sub-pay-0003")
        pay(client, bob, bobs["id"], "700", "sub-pay-0004")
        event = next_message(ws)["payload"]["data"]["paymentReceived"]
        assert event == {"loanNumber": bobs["number"]}  # asha's came first, and never arrived
    with open_subscription(server, bob, PAYMENTS, {"loan": ashas["id"]}) as ws:
        refused = next_message(ws)
        assert refused["type"] in ("error", "next")
        errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "LOAN_NOT_FOUND"


def test_providers_get_amounts_and_dates_only_and_staff_get_everything(
    client: GraphQLClient,
    server: LiveServer,
    login: Any,
    make_user: Any,
    asha: str,
    fund_pool: Any,
) -> None:
    fund_pool("5000", "pool_provider")
    provider = login("pool_provider", "long enough pass")["accessToken"]
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    loan = apply(client, asha, "sub-p2p-0001", productCode="P2P_FLAT", amount="1000")["loan"]
    with (
        open_subscription(server, provider, PAYMENTS) as as_provider,
        open_subscription(server, staff, PAYMENTS) as as_staff,
        open_subscription(server, asha, UPDATES) as updates,
    ):
        time.sleep(0.2)
        pay(client, asha, loan["id"], "1050", "sub-p2p-pay1")
        seen = next_message(as_provider)["payload"]["data"]["paymentReceived"]
        assert seen["amount"] == {"amount": "1050.00"} and seen["paidOn"]
        assert [
            seen[k] for k in ("paymentId", "principal", "interest", "allocations", "outstanding")
        ] == [None] * 5
        full = next_message(as_staff)["payload"]["data"]["paymentReceived"]
        assert full["principal"] == {"amount": "1000.00"}
        assert next_message(updates)["payload"]["data"]["loanUpdated"]["status"] == "PAID"


def test_the_connection_closes_when_the_access_token_expires(
    client: GraphQLClient, server: LiveServer, asha: str, login: Any
) -> None:
    policy = server.runtime.settings.sign_in_policy().access
    viewer = client.execute("{ me { id } }", token=asha).data["me"]["id"]
    user_id = int(__import__("base64").b64decode(viewer).decode().split(":")[1])
    short, _ = issue_access_token(
        replace(policy, ttl=timedelta(seconds=2)),
        user_id,
        Role.CUSTOMER,
        utcnow(),
        session_version=0,
    )
    with open_subscription(server, short, UPDATES) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=8)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def _short_token(client: GraphQLClient, server: LiveServer, token: str, seconds: int) -> str:
    policy = server.runtime.settings.sign_in_policy().access
    viewer = client.execute("{ me { id } }", token=token).data["me"]["id"]
    user_id = int(__import__("base64").b64decode(viewer).decode().split(":")[1])
    short, _ = issue_access_token(
        replace(policy, ttl=timedelta(seconds=seconds)),
        user_id,
        Role.CUSTOMER,
        utcnow(),
        session_version=0,
    )
    return short


def _database_away(checks: list[bool]) -> Any:
    """A sign-out check that fails as if the database were down, then answers `checks`."""
    calls = {"n": 0}

    def check(viewer: Any) -> bool:
        calls["n"] += 1
        if calls["n"] <= 3:
            raise OperationalError("SELECT users", {}, ConnectionRefusedError())
        return checks[min(calls["n"] - 4, len(checks) - 1)]

    return check


def test_a_connection_closes_when_its_token_expires_even_while_the_database_is_away(
    client: GraphQLClient, server: LiveServer, asha: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = _short_token(client, server, asha, 3)
    monkeypatch.setattr(app.websocket, "RECHECK_SECONDS", 0.3)
    with open_subscription(server, short, UPDATES) as ws:
        monkeypatch.setattr(server.app.state.graphql, "_is_active", _database_away([True]))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=8)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_a_sign_out_still_ends_the_connection_once_the_database_is_back(
    client: GraphQLClient, server: LiveServer, asha: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.websocket, "RECHECK_SECONDS", 0.3)
    with open_subscription(server, asha, UPDATES) as ws:
        monkeypatch.setattr(server.app.state.graphql, "_is_active", _database_away([False]))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=8)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def test_a_stale_token_cannot_subscribe(server: LiveServer, asha: str) -> None:
    url = server.url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5) as ws:
        ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"authorization": "Bearer " + asha[:-4] + "AAAA"},
                }
            )
        )
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def test_graphiql_signs_subscriptions_in_with_the_authorization_header(
    server: LiveServer, tmp_path: Any
) -> None:
    import re
    import shutil
    import subprocess

    import httpx

    page = httpx.get(f"{server.url}/graphql", headers={"accept": "text/html"}).text
    assert "wsConnectionParams: { authorization }" in page
    script = re.findall(r"<script>(.*?)</script>", page, flags=re.S)[-1]
    if shutil.which("node") is None:
        (pytest.fail if IN_CI else pytest.skip)("node is needed to check the page's script")
    (tmp_path / "page.js").write_text(script)
    checked = subprocess.run(
        ["node", "--check", str(tmp_path / "page.js")], capture_output=True, check=False
    )
    assert checked.returncode == 0, checked.stderr.decode()


def test_an_expired_token_cannot_open_a_subscription(
    client: GraphQLClient, server: LiveServer, asha: str
) -> None:
    policy = server.runtime.settings.sign_in_policy().access
    expired, _ = issue_access_token(
        replace(policy, ttl=timedelta(seconds=-60)), 1, Role.CUSTOMER, utcnow(), session_version=0
    )
    url = server.url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=5) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {expired}"}}
        ws.send(json.dumps(init))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def test_one_connection_holds_at_most_the_configured_number_of_subscriptions(
    client: GraphQLClient, server: LiveServer, asha: str
) -> None:
    limit = server.runtime.settings.max_subscriptions_per_connection
    with open_subscription(server, asha, UPDATES) as ws:
        for n in range(2, limit + 2):
            start = {"query": UPDATES, "variables": {}}
            ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": start}))
        refused = next_message(ws)
        assert refused["id"] == str(limit + 1) and refused["type"] == "error"
        assert refused["payload"][0]["message"] == "Subscription limit reached"
