"""Issue 21.1, recovery without a restart: a PostgreSQL and a Redis of the test's own are
stopped, one after the other, while the API, a worker and the scheduler run (in one process,
built exactly as `serve`, `worker` and `scheduler` build theirs). /readyz reports each outage
and its end; afterwards the outbox relay drains, due closes run, e-mails go out and external
scoring resumes — nothing is restarted.

The database is away for DB_OUTAGE seconds and Redis for REDIS_OUTAGE (Redis comes back
empty, as with no persistence: whatever it held is lost). The loops handle outages of any
length — their backoff is capped — so the database's outage is kept short here and the cap
lowered (RECOVERY_BACKOFF_MAX_SECONDS) to keep the test under two minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from email import message_from_bytes
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from domain.outbox import ProcessedMessage, emit_job
from domain.unit_of_work import UnitOfWork
from tests.api.test_delinquency_api import SET_DATE
from tests.api.test_loans import apply
from tests.api.test_payments_api import pay
from tests.integrations.scoring_world import ScoringWorld, scoring_world
from tests.live_server import GraphQLClient, free_port
from tests.postgres_server import PrivatePostgres, private_postgres
from tests.redis_server import PrivateRedis

DB_OUTAGE = 12.0
REDIS_OUTAGE = 30.0
START = date(2026, 11, 2)
PAID = "Payment received"
SIGN_UP = """mutation($u: String!, $p: String!) { registerCustomer(input: {firstName: $u,
  lastName: "Rao", phone: $p, age: 34, monthlyIncome: "50000", email: "asha@example.in",
  username: $u, password: "a long password"}) { __typename } }"""
LOGIN = """mutation($u: String!) { login(input: {username: $u, password: "a long password"}) {
  ... on AuthTokens { accessToken } } }"""
CLOSED = "{ businessDay { closedThrough } }"


class Inbox:
    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.subjects.append(str(message_from_bytes(envelope.content)["Subject"]))
        return "250 OK"


@dataclass
class System:
    world: ScoringWorld
    postgres: PrivatePostgres
    redis: PrivateRedis
    mail: Inbox

    @property
    def client(self) -> GraphQLClient:
        return self.world.client

    def ready(self) -> int:
        return httpx.get(f"{self.world.lendgraph.url}/readyz", timeout=15).status_code

    def pin(self, day: date) -> None:
        self.client.execute(SET_DATE, {"d": str(day)}, token=self.world.staff_token)

    def closed_through(self) -> str | None:
        body = self.client.execute(CLOSED, token=self.world.staff_token).data
        return body["businessDay"]["closedThrough"]  # type: ignore[no-any-return]

    def orphan_job(self) -> Callable[[], bool]:
        """A job committed by a process that died before handing it on: only the relay can.
        Returns whether a worker has run it."""
        sessions = self.world.lendgraph.runtime.session_factory
        with sessions() as session:
            uow = UnitOfWork(session, after_commit=None)
            message = emit_job(session, "test_sample_job")
            uow.commit()

        def ran() -> bool:
            with sessions() as session:
                found = select(ProcessedMessage).where(ProcessedMessage.message_id == message.id)
                return session.exec(found).first() is not None

        return ran


@pytest.fixture
def system() -> Iterator[System]:
    mail, smtp_port = Inbox(), free_port()
    smtp = Controller(mail, hostname="127.0.0.1", port=smtp_port)
    redis = PrivateRedis()
    with private_postgres() as postgres:
        redis.start()
        smtp.start()
        try:
            with scoring_world(
                postgres.url,
                REDIS_URL=redis.url,
                SMTP_HOST="127.0.0.1",
                SMTP_PORT=smtp_port,
                ACTOR_MODULES=["tests.workers.sample_actors"],
                OUTBOX_RELAY_SECONDS=1,
                BILLING_CHECK_SECONDS=10,
                BILLING_RESUME_SECONDS=2,
                SCORING_OUTAGE_MAX_SECONDS=2,
                SCORING_RESUME_AFTER_SECONDS=3,
                JOB_LOST_AFTER_SECONDS=20,
                RECOVERY_BACKOFF_MAX_SECONDS=2,
            ) as world:
                world.reset()
                yield System(world, postgres, redis, mail)
        finally:
            smtp.stop()
            redis.stop()


def _wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if condition():
                return
        except (httpx.TransportError, AssertionError, KeyError, TypeError):
            pass  # the API answers errors while a server is away: keep asking
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.2)


def _customer(system: System) -> tuple[str, str]:
    """Asha, with an address to e-mail and a loan; her token and the loan's id."""
    system.client.execute(SIGN_UP, {"u": "asha", "p": "+919800000001"})
    token = system.client.execute(LOGIN, {"u": "asha"}).data["login"]["accessToken"]
    loan = apply(
        system.client, token, "recovery-loan", productCode="PERSONAL_EMI", amount="50000",
        interestRate="14", tenure=6,
    )  # fmt: skip
    return token, loan["loan"]["id"]


def _pay(system: System, token: str, loan: str, key: str) -> None:
    assert pay(system.client, token, loan, "1000", key)["__typename"] == "Payment"


def _scoring_stuck(system: System, number: str, key: str) -> str:
    """An application waiting on a scoring engine that is down; its id."""
    system.world.control_engine(mode="down")
    system.world.subscribe(number)
    pending = system.world.apply(number, "5000", key)
    assert pending["status"] == "PENDING"
    return str(pending["id"])


def _outage(
    system: System, stop: Callable[[], None], start: Callable[[], None], seconds: float
) -> None:
    began = time.monotonic()
    stop()
    _wait_for(lambda: system.ready() == 503, 15, "/readyz reports the outage")
    time.sleep(max(0.0, seconds - (time.monotonic() - began)))
    start()
    _wait_for(lambda: system.ready() == 200, 30, "/readyz reports the recovery")


def _everything_resumes(system: System, application: str, closes: date, emails: int) -> None:
    system.world.control_engine(mode="ok")
    decided = system.world.decided(application, timeout=45)
    assert decided["status"] != "PENDING", "external scoring never resumed"
    ran = system.orphan_job()
    _wait_for(ran, 30, "the outbox relay hands on a job left in the outbox")
    _wait_for(lambda: system.closed_through() == str(closes), 45, f"{closes} is closed")
    _wait_for(lambda: system.mail.subjects.count(PAID) == emails, 30, f"{emails} e-mails went out")


def test_the_system_recovers_from_database_and_redis_outages_without_a_restart(
    system: System,
) -> None:
    runtime = system.world.lendgraph.runtime
    system.pin(START)
    runtime.start_worker(threads=4)  # what `lendgraph worker` runs
    runtime.start_scheduler()  # what `lendgraph scheduler` runs
    asha, loan = _customer(system)
    _wait_for(lambda: system.closed_through() == str(START - timedelta(days=1)), 30, "led")

    # PostgreSQL goes away, with a scoring waiting on the engine.
    first = _scoring_stuck(system, "234774784", "scored-before-db-outage")
    _outage(system, lambda: system.postgres.stop("immediate"), system.postgres.start, DB_OUTAGE)
    system.pin(START + timedelta(days=2))  # yesterday is over: the close is due
    _pay(system, asha, loan, "paid-after-db-outage")
    _everything_resumes(system, first, START + timedelta(days=1), emails=1)

    # Redis goes away and comes back empty; meanwhile a payment is booked and a close falls due.
    second = _scoring_stuck(system, "318411216", "scored-before-redis-outage")

    def during_redis_outage() -> None:
        system.redis.stop()
        _pay(system, asha, loan, "paid-during-redis-outage")
        system.pin(START + timedelta(days=3))

    _outage(system, during_redis_outage, system.redis.start, REDIS_OUTAGE)
    _everything_resumes(system, second, START + timedelta(days=2), emails=2)
