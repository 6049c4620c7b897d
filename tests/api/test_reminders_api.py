"""Reminders, missed payments and their email (RULES.md §5): raised once each by the daily
close, seen by their owner only, and delivered to a real SMTP server the test starts; a mail
server that is down delays the email, never duplicates the notification."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.asgi import create_app
from domain.users import Role, create_user
from tests.api.test_delinquency_api import RUN, SET_DATE, STATUS
from tests.api.test_loans import apply
from tests.conftest import LOGIN, PASSWORD, make_settings
from tests.databases import empty_all_tables
from tests.live_server import GraphQLClient, LiveServer, free_port

START = date(2026, 11, 2)
NOTICES = "{ me { notifications(first: 50) { edges { node { kind title body } } } } }"
SIGN_UP = """mutation($u: String!, $p: String!, $e: String!) { registerCustomer(input: {
  firstName: $u, lastName: "Rao", phone: $p, age: 34, monthlyIncome: "50000", email: $e,
  username: $u, password: "a long password"}) { __typename } }"""


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    def subjects(self) -> list[str]:
        return sorted(str(m["Subject"]) for m in self.messages if m["Subject"] != "Loan approved")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def mail_server(database_url: str, smtp_port: int) -> Iterator[LiveServer]:
    settings = make_settings(database_url, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_port)
    with LiveServer(create_app(settings)) as live:
        yield live


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[tuple[Inbox, Controller]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler, controller
    controller.stop()


def _sign_in(client: GraphQLClient, username: str, password: str = PASSWORD) -> str:
    result = client.execute(LOGIN, {"username": username, "password": password})
    return str(result.data["login"]["accessToken"])


def _close(client: GraphQLClient, staff: str, day: date) -> None:
    client.execute(SET_DATE, {"d": str(day + timedelta(days=1))}, token=staff)
    runs = client.execute(RUN, {"d": str(day)}, token=staff).data["runBilling"]["runs"]
    deadline = time.monotonic() + 30
    while (
        client.execute(STATUS, {"id": runs[-1]["id"]}, token=staff).data["billingRun"]["status"]
        != "COMPLETED"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _kinds(client: GraphQLClient, token: str) -> list[str]:
    edges = client.execute(NOTICES, token=token).data["me"]["notifications"]["edges"]
    return [e["node"]["kind"] for e in edges]


def _wait_for(condition: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def world(mail_server: LiveServer) -> Iterator[tuple[GraphQLClient, str, str, str, str]]:
    empty_all_tables(mail_server.runtime.engine)
    mail_server.runtime.make_current()
    with mail_server.runtime.session_factory() as session:
        create_user(session, "boss", PASSWORD, Role.STAFF)
        session.commit()
    client = GraphQLClient(mail_server.url)
    staff = _sign_in(client, "boss")
    for name, phone in (("asha", "+919800000001"), ("bob", "+919800000002")):
        email = f"{name}@example.in"
        client.execute(SIGN_UP, {"u": name, "p": phone, "e": email})
    asha, bob = (
        _sign_in(client, "asha", "a long password"),
        _sign_in(client, "bob", "a long password"),
    )
    client.execute(SET_DATE, {"d": str(START)}, token=staff)
    loan = apply(
        client, asha, "weekly-rem-1", productCode="WEEKLY_FLAT", amount="5000000", tenure=50
    )
    yield client, staff, asha, bob, loan["loan"]["id"]
    client.close()


def test_a_reminder_and_a_missed_payment_once_each_by_email_to_the_owner_only(
    world: tuple[GraphQLClient, str, str, str, str], inbox: tuple[Inbox, Controller]
) -> None:
    client, staff, asha, bob, _ = world
    mail, _ = inbox
    _close(client, staff, START)
    _close(client, staff, START + timedelta(days=4))  # week 1 falls due on day 7: 3 days on

    assert _kinds(client, asha).count("PAYMENT_REMINDER") == 1
    _wait_for(lambda: mail.subjects() == ["Payment due soon"])
    _close(client, staff, START + timedelta(days=7))  # unpaid at the close of its due date

    assert _kinds(client, asha).count("MISSED_PAYMENT") == 1
    _wait_for(lambda: mail.subjects() == ["Payment due soon", "Payment missed"])
    _close(client, staff, START + timedelta(days=7))  # the same day again: nothing new
    time.sleep(0.5)
    assert _kinds(client, asha).count("PAYMENT_REMINDER") == 1
    assert _kinds(client, asha).count("MISSED_PAYMENT") == 1
    assert mail.subjects() == ["Payment due soon", "Payment missed"]
    assert "MISSED_PAYMENT" not in _kinds(client, bob)
    assert all(m["To"] == "asha@example.in" for m in mail.messages)


def test_a_mail_server_that_is_down_delays_the_email_and_stores_the_notice_once(
    world: tuple[GraphQLClient, str, str, str, str], smtp_port: int
) -> None:
    client, staff, asha, _, _ = world
    _close(client, staff, START)
    _close(client, staff, START + timedelta(days=4))  # no mail server listening yet
    assert _kinds(client, asha).count("PAYMENT_REMINDER") == 1
    time.sleep(1.0)  # the first tries fail

    mail = Inbox()
    controller = Controller(mail, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        _wait_for(lambda: mail.subjects() == ["Payment due soon"], seconds=30)  # a retry
    finally:
        controller.stop()
    assert _kinds(client, asha).count("PAYMENT_REMINDER") == 1
