"""Payment throughput against PostgreSQL, next to pgbench on the same server.

Creates a throwaway database with one bank-funded EMI loan per client, starts
`lendgraph serve` with production settings (PostgreSQL, Redis, JWT secret, no GraphiQL),
and has N concurrent clients each pay small amounts on their own loan through
`makePayment` over HTTP for a fixed time. Then runs pgbench's TPC-B-like script with the
same number of clients for the same time against the same PostgreSQL server, and prints
payments/s, p50/p99 latency, pgbench TPS and the ratio of the two. Figures, not
assertions: run it on a quiet machine.

    make bench-payments          # or: .venv/bin/python bench/payments.py
    BENCH_CLIENTS=16 BENCH_SECONDS=30 BENCH_WORKERS=2 .venv/bin/python bench/payments.py

Needs PostgreSQL (BENCH_ADMIN_URL, default postgres@127.0.0.1:5432), Redis (REDIS_URL,
default redis://127.0.0.1:6379/0) and `pgbench` on the PATH (Debian: postgresql-client).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.db import make_engine, make_session_factory
from app.migrations import migrate
from bench.common import emi_loan_to_pay_on, start_server, throwaway_database
from bench.private_servers import free_port
from domain.customers import Registration, register_customer
from domain.users import Role, create_user

PAY = (
    "mutation Pay($input: MakePaymentInput!) { makePayment(input: $input) "
    "{ __typename ... on Error { code } } }"
)


def _seed(url: str, clients: int) -> list[str]:
    """One staff user and one active EMI loan per client; the loans' global ids."""

    migrate(url)
    engine = make_engine(url, pool_size=1)
    now = datetime.now(UTC)
    ids = []
    with make_session_factory(engine)() as session:
        staff = create_user(session, "bench_staff", "bench-password", Role.STAFF)
        for n in range(clients):
            customer = register_customer(
                session,
                Registration(
                    "Bench", f"C{n}", f"+9190000{n:05d}", age=40, monthly_income=Decimal("500000")
                ),
                now.date(),
                staff,
            )
            ids.append(emi_loan_to_pay_on(session, customer, f"bench-loan-{n:05d}", now))
        session.commit()
    engine.dispose()
    return ids


def _pay_for(base: str, token: str, loans: list[str], seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    refused = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def run(client: int) -> None:
        nonlocal refused
        headers = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            n = 0
            while time.monotonic() < deadline:
                n += 1
                request = {
                    "loanId": loans[client],
                    "amount": "10.00",
                    "idempotencyKey": f"bench-pay-{client:04d}-{n:07d}",
                }
                started = time.perf_counter()
                answer = http.post("/graphql", json={"query": PAY, "variables": {"input": request}})
                elapsed = time.perf_counter() - started
                ok = (
                    answer.status_code == 200
                    and answer.json()["data"]["makePayment"]["__typename"] == "Payment"
                )
                with lock:
                    latencies.append(elapsed)
                    refused += not ok

    threads = [threading.Thread(target=run, args=(c,)) for c in range(len(loans))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, refused


def _pgbench(clients: int, seconds: int) -> float:
    pgbench = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    with throwaway_database("lendgraph_pgbench") as url:
        target = make_url(url)
        args = [
            "-h",
            target.host or "127.0.0.1",
            "-p",
            str(target.port or 5432),
            "-U",
            target.username or "postgres",
        ]
        env = {**os.environ, "PGPASSWORD": target.password or ""}
        subprocess.run(
            [pgbench, "-i", "-q", "-s", str(max(10, clients)), *args, target.database or ""],
            check=True,
            env=env,
            capture_output=True,
        )
        output = subprocess.run(
            [
                pgbench,
                "-c",
                str(clients),
                "-j",
                str(min(clients, os.cpu_count() or 2)),
                "-T",
                str(seconds),
                *args,
                target.database or "",
            ],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
    match = re.search(r"tps = ([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"no tps in pgbench output:\n{output}")
    return float(match.group(1))


def main() -> None:
    clients = int(os.environ.get("BENCH_CLIENTS", "8"))
    seconds = int(os.environ.get("BENCH_SECONDS", "20"))
    workers = os.environ.get("BENCH_WORKERS", "2")
    with throwaway_database() as url:
        loans = _seed(url, clients)
        port = free_port()
        env = {
            **os.environ,
            "LENDGRAPH_ENV": "production",
            "JWT_SECRET": secrets.token_urlsafe(48),
            "SCORING_CALLBACK_PASSWORD": secrets.token_urlsafe(24),
            "CBS_URL": "",  # no core banking system in this benchmark
            "DATABASE_URL": url,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "QUEUE_NAMESPACE": f"bench-{secrets.token_hex(4)}",
            "EMBEDDED_SCHEDULER": "false",
            "SEED_ON_START": "false",
            "LOG_LEVEL": "WARNING",
        }
        server = start_server(env, port, "--workers", workers)
        try:
            base = f"http://127.0.0.1:{port}"
            login = (
                'mutation { login(input: {username: "bench_staff", password: "bench-password"})'
                " { ... on AuthTokens { accessToken } } }"
            )
            token = httpx.post(f"{base}/graphql", json={"query": login}).json()["data"]["login"][
                "accessToken"
            ]
            _pay_for(base, token, loans, 2)  # warm-up
            started = time.perf_counter()
            latencies, refused = _pay_for(base, token, loans, seconds)
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    tps = _pgbench(clients, seconds)
    cut = statistics.quantiles(sorted(latencies), n=100)
    rate = (len(latencies) - refused) / elapsed
    print(f"clients            {clients} (server: {workers} uvicorn workers, production settings)")
    print(f"payments           {len(latencies) - refused:,} in {elapsed:.1f} s ({refused} refused)")
    print(f"payments/s         {rate:,.1f}")
    print(f"latency p50        {cut[49] * 1000:.1f} ms")
    print(f"latency p99        {cut[98] * 1000:.1f} ms")
    print(f"pgbench TPS        {tps:,.1f} (TPC-B-like, {clients} clients, {seconds} s)")
    print(f"payments / pgbench {rate / tps:.3f}")


if __name__ == "__main__":
    main()
