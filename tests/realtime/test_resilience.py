"""Issue 9, done-when 3: subscriptions survive a Redis restart, and a client that stops
reading is cut off while the server's memory stays bounded. Issue 21, point 3: a 20 s Redis
outage loses no payment event (each process replays from the outbox what it missed)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from app.asgi import create_app
from domain.users import Role, create_user
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


@pytest.fixture
def production_like_server(postgresql_url: str, redis_server: PrivateRedis) -> Iterator[LiveServer]:
    app = create_app(make_settings(postgresql_url, REDIS_URL=redis_server.url))
    with LiveServer(app) as live:
        empty_all_tables(live.runtime.engine)
        yield live


class Heard:
    """What one websocket subscriber receives: payment events, and anything else."""

    def __init__(self, ws: ClientConnection) -> None:
        self.events: list[dict[str, Any]] = []
        self.other: list[Any] = []
        self._ws, self._stop = ws, threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                message = json.loads(self._ws.recv(timeout=0.5))
            except TimeoutError:
                continue
            except ConnectionClosed as closed:
                self.other.append(f"closed: {closed}")
                return
            data = (message.get("payload") or {}).get("data") if message["type"] == "next" else None
            if data and not message["payload"].get("errors"):
                self.events.append(data["paymentReceived"])
            else:
                self.other.append(message)

    def payment_ids(self) -> list[str]:
        return [event["paymentId"] for event in self.events]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class Payer:
    """Pays the loans in turn through the API, one payment after another, until stopped;
    then the relay of the scheduler process (every second, as OUTBOX_RELAY_SECONDS=1)."""

    def __init__(self, server: LiveServer, loans: list[tuple[str, str]]) -> None:
        self.paid: list[tuple[str, str, bool]] = []  # payment id, loan id, Redis was up
        self.failures: list[str] = []
        self.redis_up = True
        self._server, self._loans, self._stop = server, loans, threading.Event()
        self._threads = [
            threading.Thread(target=self._pay, daemon=True),
            threading.Thread(target=self._relay, daemon=True),
        ]

    def __enter__(self) -> Payer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _pay(self) -> None:
        client = GraphQLClient(self._server.url)
        try:
            for n in itertools.count():
                if self._stop.is_set():
                    return
                token, loan_id = self._loans[n % len(self._loans)]
                up = self.redis_up
                paid = pay(client, token, loan_id, "10", f"outage-pay-{n:05d}")
                self.paid.append((paid["id"], loan_id, up))
        except Exception as error:
            self.failures.append(repr(error))
        finally:
            client.close()

    def _relay(self) -> None:
        while not self._stop.wait(1):
            try:
                self._server.runtime.dispatcher.relay(older_than=timedelta(seconds=1))
            except ConnectionError:
                continue  # Redis is down: the scheduler tries again on its next turn
            except Exception as error:
                self.failures.append(repr(error))


def _loans_of_three_customers(server: LiveServer, client: GraphQLClient) -> list[tuple[str, str]]:
    login = _login(client)
    loans = []
    for n, name in enumerate(("asha", "bob", "chen")):
        token = customer(client, login, name, f"+91980000000{n}")
        made = apply(
            client,
            token,
            f"outage-loan-{n}",
            productCode="PERSONAL_EMI",
            amount="50000",
            interestRate="14",
            tenure=6,
        )
        loans.append((token, made["loan"]["id"]))
    return loans


def _staff_token(server: LiveServer, client: GraphQLClient) -> str:
    with server.runtime.session_factory() as session:
        create_user(session, "boss", "a long password", Role.STAFF)
        session.commit()
    return str(_login(client)("boss", "a long password")["accessToken"])


def test_no_payment_event_is_lost_to_a_twenty_second_redis_outage(
    production_like_server: LiveServer, redis_server: PrivateRedis
) -> None:
    """Payments go on through the outage (their events wait in the outbox, in PostgreSQL)
    and after it. Every subscriber hears of each payment it may see exactly once, with no
    signal to refetch needed: the hub replays what Redis could not carry."""
    server, client = production_like_server, GraphQLClient(production_like_server.url)
    loans = _loans_of_three_customers(server, client)
    staff, (asha, ashas_loan) = _staff_token(server, client), loans[0]
    hub: Any = server.runtime.events
    with (
        open_subscription(server, staff, PAYMENTS) as staff_ws,
        open_subscription(server, asha, PAYMENTS) as asha_ws,
    ):
        assert _wait_until(lambda: hub.subscriber_count("paymentReceived") == 2, 5)
        everything, ashas = Heard(staff_ws), Heard(asha_ws)
        with Payer(server, loans) as payer:
            time.sleep(3)
            redis_server.stop()
            payer.redis_up = False
            time.sleep(20)
            redis_server.start()
            payer.redis_up = True
            time.sleep(8)
        made = [payment for payment, _, _ in payer.paid]
        _wait_until(lambda: len(everything.events) >= len(made), 30)
        everything.stop()
        ashas.stop()
    client.close()

    during = sum(1 for *_, up in payer.paid if not up)
    print(
        f"{len(made)} payments, {during} while Redis was down; staff heard {len(everything.events)}"
    )
    assert payer.failures == []
    assert during >= 20, "too few payments during the outage"
    heard = everything.payment_ids()
    assert len(heard) == len(set(heard)), "an event was delivered twice"
    missing = set(made) - set(heard)
    assert not missing, f"{len(missing)} of {len(made)} payment events never arrived"
    assert everything.other == [] and ashas.other == []  # no error, no refetch needed
    ashas_payments = [p for p, loan, _ in payer.paid if loan == ashas_loan]
    assert sorted(ashas.payment_ids()) == sorted(ashas_payments)  # hers, all, only hers
    sequences = sorted(e["sequence"] for e in ashas.events)
    assert sequences == list(range(2, 2 + len(ashas_payments)))


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
