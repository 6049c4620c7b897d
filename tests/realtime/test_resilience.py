"""Issue 9, done-when 3: subscriptions survive a Redis restart, and a client that stops
reading is cut off while the server's memory stays bounded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.asgi import create_app
from domain.users import Role
from tests.api.test_loans import apply
from tests.api.test_payments_api import customer, pay
from tests.api.test_subscriptions import PAYMENTS, next_message, open_subscription
from tests.conftest import make_settings
from tests.databases import empty_all_tables
from tests.live_server import GraphQLClient, LiveServer
from tests.redis_server import PrivateRedis
from tests.workers.test_processes import _wait_until


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server_on_redis(sqlite_url: str, redis_server: PrivateRedis) -> Iterator[LiveServer]:
    app = create_app(make_settings(sqlite_url, REDIS_URL=redis_server.url))
    with LiveServer(app) as live:
        empty_all_tables(live.runtime.engine)
        yield live


def test_events_arrive_again_after_redis_restarts(
    server_on_redis: LiveServer, redis_server: PrivateRedis
) -> None:
    server = server_on_redis
    client = GraphQLClient(server.url)
    try:
        asha = customer(client, _login(client), "asha", "+919800000001")
        loan = apply(
            client,
            asha,
            "redis-loan-01",
            productCode="PERSONAL_EMI",
            amount="50000",
            interestRate="14",
            tenure=6,
        )["loan"]
        hub: Any = server.runtime.events
        with open_subscription(server, asha, PAYMENTS) as ws:
            assert _wait_until(lambda: hub.subscriber_count("paymentReceived") == 1, 5)
            redis_server.stop()
            assert _wait_until(lambda: not hub.connected.is_set(), 10)
            paid = pay(client, asha, loan["id"], "1000", "redis-pay-001")  # Redis is down
            assert paid["__typename"] == "Payment"  # booked; its event waits in the outbox
            redis_server.start()
            assert _wait_until(hub.connected.is_set, 15), "the hub never reconnected"
            relay = server.runtime.dispatcher.relay  # what the scheduler does every few seconds
            assert _wait_until(lambda: relay(older_than=timedelta(0)) > 0, 10)
            first = next_message(ws, timeout=10)["payload"]["data"]["paymentReceived"]
            assert first["amount"] == {"amount": "1000.00"}
            pay(client, asha, loan["id"], "500", "redis-pay-002")
            second = next_message(ws, timeout=10)["payload"]["data"]["paymentReceived"]
            assert second["amount"] == {"amount": "500.00"}
            assert second["sequence"] == first["sequence"] + 1
    finally:
        client.close()


def _login(client: GraphQLClient) -> Any:
    def login(username: str, password: str) -> dict[str, Any]:
        return client.execute(
            "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) "
            "{ ... on AuthTokens { accessToken } } }",
            {"u": username, "p": password},
        ).data["login"]

    return login


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_a_client_that_stops_reading_is_cut_off_and_memory_stays_bounded(
    server: LiveServer, client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    hub: Any = server.runtime.events
    big = [  # about 60 KB of JSON per event once formatted
        {
            "kind": "INSTALLMENT",
            "installmentNumber": n,
            "dueDate": "2027-01-01",
            "principal": "1000.00",
            "interest": "10.00",
        }
        for n in range(600)
    ]
    event = {
        "loanId": 1,
        "loanNumber": 1,
        "customerId": 1,
        "providerIds": [],
        "sequence": 1,
        "status": "ACTIVE",
        "currency": "INR",
        "outstanding": "1.00",
        "occurredAt": "2026-11-23T00:00:00+00:00",
        "paymentId": 1,
        "amount": "1.00",
        "principal": "1.00",
        "interest": "0.00",
        "paidOn": "2026-11-23",
        "allocations": big,
    }
    with open_subscription(server, staff, PAYMENTS, max_queue=1) as ws:
        assert _wait_until(lambda: hub.subscriber_count("paymentReceived") == 1, 5)
        hub.publish("paymentReceived", {**event, "messageId": "first"})
        assert next_message(ws)["payload"]["data"]["paymentReceived"]["sequence"] == 1
        before = _rss_bytes()
        for n in range(4000):  # ~240 MB if the server buffered it all; the client reads none
            hub.publish("paymentReceived", {**event, "messageId": f"flood-{n}"})
        assert _wait_until(lambda: hub.subscriber_count("paymentReceived") == 0, 30), (
            "the slow subscriber was never cut off"
        )
        time.sleep(1)
        grown = _rss_bytes() - before
        print(f"server memory grew by {grown / 2**20:.1f} MiB")
        assert grown < 80 * 1024 * 1024, f"server memory grew by {grown / 2**20:.0f} MiB"
