"""Issue 9, done-when 1: the real `graphql-ws` client from npm, connected to API process B,
receives a payment made through API process A and a loanUpdated raised by a Dramatiq
worker process (its job relayed by the scheduler), in order, each within a second of the
event being raised; PostgreSQL and Redis between them."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.db import make_engine, make_session_factory
from domain.outbox import emit_job
from domain.unit_of_work import UnitOfWork
from tests.conftest import TEST_SECRET
from tests.databases import empty_all_tables
from tests.live_server import free_port
from tests.services import REDIS_URL, RUN_ID, require
from tests.workers.test_processes import ROOT, _spawn, _wait_until

PAYMENTS = "subscription { paymentReceived { sequence loanNumber amount { amount } occurredAt } }"
UPDATES = "subscription { loanUpdated { sequence loanNumber status occurredAt } }"


@pytest.fixture
def two_apis_and_a_worker(postgresql_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    require(REDIS_URL, "Redis")
    engine = make_engine(postgresql_url, pool_size=2)
    empty_all_tables(engine)
    engine.dispose()
    ports = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": postgresql_url,
        "REDIS_URL": REDIS_URL,
        "QUEUE_NAMESPACE": f"realtime-{RUN_ID}",
        "JWT_SECRET": TEST_SECRET,
        "ACTOR_MODULES": '["tests.workers.sample_actors"]',
        "EMBEDDED_SCHEDULER": "false",
        "SEED_ON_START": "false",
        "OUTBOX_RELAY_SECONDS": "1",
    }
    started = [
        _spawn(["serve", "--port", str(ports[0])], env, tmp_path / "api-a.log"),
        _spawn(["serve", "--port", str(ports[1])], env, tmp_path / "api-b.log"),
        _spawn(["worker", "--threads", "2"], env, tmp_path / "worker.log"),
        _spawn(["scheduler"], env, tmp_path / "scheduler.log"),
    ]
    bases = tuple(f"http://127.0.0.1:{port}" for port in ports)

    def ready() -> bool:
        try:
            return all(httpx.get(f"{b}/readyz").json().get("ready") is True for b in bases)
        except httpx.TransportError:
            return False

    try:
        assert _wait_until(ready, 60), "the API processes never became ready"
        yield bases[0], bases[1]
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)
        for log in sorted(tmp_path.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")


def _graphql(base: str, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    answer = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = answer.json()
    assert not body.get("errors"), body
    return body["data"]


class Lines:
    """The subscriber's output, read in the background."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.items: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip():
                self.items.append(json.loads(line))

    def wait_for(self, count: int, kind: str, seconds: float = 10) -> list[dict[str, Any]]:
        _wait_until(lambda: len(self.of(kind)) >= count, seconds)
        return self.of(kind)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [item for item in self.items if item["kind"] == kind]


def _delay_ms(item: dict[str, Any], field: str) -> float:
    data = item["result"]["data"][item["name"]]
    return item["at"] - datetime.fromisoformat(data["occurredAt"]).timestamp() * 1000


def test_a_client_on_one_process_hears_payments_and_worker_updates_from_others(
    node_client: Path, two_apis_and_a_worker: tuple[str, str], postgresql_url: str
) -> None:
    api_a, api_b = two_apis_and_a_worker
    _graphql(
        api_a,
        'mutation { registerCustomer(input: {firstName: "Asha", lastName: "Rao", '
        'phone: "+919800000001", age: 34, monthlyIncome: "50000", username: "asha", '
        'password: "a long password"}) { __typename } }',
        {},
    )
    token = _graphql(
        api_a,
        'mutation { login(input: {username: "asha", password: "a long password"}) '
        "{ ... on AuthTokens { accessToken } } }",
        {},
    )["login"]["accessToken"]
    loan = _graphql(
        api_a,
        'mutation { applyForLoan(input: {productCode: "PERSONAL_EMI", amount: "50000", '
        'interestRate: "14", tenure: 6, idempotencyKey: "realtime-loan-1"}) '
        "{ ... on LoanApplication { loan { id number } } } }",
        {},
        token,
    )["applyForLoan"]["loan"]
    operations = [["paymentReceived", PAYMENTS, {}], ["loanUpdated", UPDATES, {}]]
    ws_url = api_b.replace("http://", "ws://") + "/graphql"
    process = subprocess.Popen(
        ["node", str(node_client), ws_url, token, json.dumps(operations)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    lines = Lines(process)
    try:
        assert lines.wait_for(1, "connected"), lines.items
        time.sleep(0.5)  # both subscriptions registered on B
        _graphql(
            api_a,
            'mutation($l: ID!) { makePayment(input: {loanId: $l, amount: "1000", '
            'idempotencyKey: "realtime-pay-1"}) { __typename } }',
            {"l": loan["id"]},
            token,
        )
        _ask_the_worker_to_touch(postgresql_url, row_id(loan["id"]))
        events = lines.wait_for(2, "next", seconds=20)
        assert [e["name"] for e in events] == ["paymentReceived", "loanUpdated"], lines.items
        payment, update = (e["result"]["data"][e["name"]] for e in events)
        assert payment["amount"] == {"amount": "1000.00"} and payment["sequence"] == 2
        assert update["sequence"] == 3 and update["loanNumber"] == loan["number"]
        for event in events:
            assert _delay_ms(event, "occurredAt") < 1000, events
    finally:
        process.terminate()
        process.wait(timeout=10)


def row_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


def _ask_the_worker_to_touch(database_url: str, loan_id: int) -> None:
    """Commit a job for the worker process; the scheduler's outbox relay hands it on."""
    engine = make_engine(database_url, pool_size=1)
    try:
        with make_session_factory(engine)() as session:
            uow = UnitOfWork(session, after_commit=None)
            emit_job(session, "test_touch_loan", loan_id=loan_id)
            uow.commit()
    finally:
        engine.dispose()
