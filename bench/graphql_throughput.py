"""GraphQL throughput: signed-in `me` + `users(first: 20)` queries from concurrent clients.

Starts `lendgraph serve` as its own process on a loopback port, against a throwaway
database (SQLite by default; BENCH_DATABASE_URL=postgresql+psycopg2://... for PostgreSQL),
and prints requests per second and latency percentiles. Figures, not assertions: run
it on a quiet machine.

    make bench                       # or: .venv/bin/python bench/graphql_throughput.py
    BENCH_CLIENTS=40 BENCH_REQUESTS=4000 .venv/bin/python bench/graphql_throughput.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.db import make_engine, make_session_factory
from app.migrations import migrate
from bench.common import start_server
from bench.private_servers import free_port
from domain.users import Role, create_user

QUERY = "query Bench { me { id username } users(first: 20) { edges { node { id username } } } }"


def _load(url: str, token: str, clients: int, per_client: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def run() -> None:
        headers = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers) as http:
            for _ in range(per_client):
                started = time.perf_counter()
                http.post("/graphql", json={"query": QUERY}).raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started


def main() -> None:
    clients = int(os.environ.get("BENCH_CLIENTS", "20"))
    total = int(os.environ.get("BENCH_REQUESTS", "2000"))
    folder = tempfile.mkdtemp(prefix="lendgraph-bench-")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.db"
    migrate(url)
    engine = make_engine(url, pool_size=1)
    with make_session_factory(engine)() as session:
        for n in range(20):
            role = Role.STAFF if n == 0 else Role.CUSTOMER
            create_user(session, f"bench{n}", "bench-password", role)
        session.commit()
    engine.dispose()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "EMBEDDED_SCHEDULER": "false"}
    server = start_server(env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        login_query = (
            'mutation { login(input: {username: "bench0", password: "bench-password"})'
            " { ... on AuthTokens { accessToken } } }"
        )
        login = httpx.post(f"{base}/graphql", json={"query": login_query}).json()
        token = login["data"]["login"]["accessToken"]
        _load(base, token, 2, 20)  # warm-up
        latencies, elapsed = _load(base, token, clients, total // clients)
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies.sort()
    cut = statistics.quantiles(latencies, n=100)
    print(f"database      {url.split('://')[0]}")
    print(f"clients       {clients}")
    print(f"requests      {len(latencies)}")
    print(f"throughput    {len(latencies) / elapsed:,.0f} req/s")
    print(f"latency p50   {cut[49] * 1000:.1f} ms")
    print(f"latency p95   {cut[94] * 1000:.1f} ms")
    print(f"latency p99   {cut[98] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
