"""What the benchmarks share: a throwaway PostgreSQL database and a served API process."""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


@contextlib.contextmanager
def throwaway_database(prefix: str = "lendgraph_bench") -> Iterator[str]:
    """A new empty PostgreSQL database's URL, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def start_server(env: dict[str, str], port: int, *extra: str) -> subprocess.Popen[bytes]:
    """`lendgraph serve` as its own process, once it answers /healthz."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def emi_loan_to_pay_on(session: Any, customer: Any, key: str, now: datetime) -> str:
    """A large, long PERSONAL_EMI loan for `customer` (bank-funded, room for many payments),
    approved as the system's own request; its global id."""
    from domain.applications import LoanAsk
    from domain.idempotency import SYSTEM_REQUESTER
    from domain.origination import apply_for_loan

    ask = LoanAsk("PERSONAL_EMI", Decimal("5000000"), Decimal("12"), 120)
    application = apply_for_loan(session, customer, ask, key, now, requested_by=SYSTEM_REQUESTER)
    assert application.loan_id is not None, application.reasons
    return base64.b64encode(f"Loan:{application.loan_id}".encode()).decode()
