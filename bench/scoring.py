"""External scoring latency: how long an application waits PENDING before the engine's score
decides it (RULES.md §3), through a running `make run` (both simulators and the API).

Subscribes generated CBS customers, applies once for each and polls until each application
is decided; prints the median and the slowest. With the defaults (first backoff 1 s, the
simulated engine "not ready" once) a decision takes the 1 s + 2 s of backoff plus the round
trips. Figures, not assertions.

    make run                       # in another terminal
    make bench-scoring             # or: BENCH_APPLICATIONS=20 .venv/bin/python bench/scoring.py
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from typing import Any

import httpx

URL = os.environ.get("BENCH_URL", "http://127.0.0.1:8000")
STAFF = (
    os.environ.get("DEMO_STAFF_USERNAME", "staff"),
    os.environ.get("DEMO_STAFF_PASSWORD", "lendgraph-demo-staff"),
)
LOGIN = """mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) {
  ... on AuthTokens { accessToken } ... on Error { code message } } }"""
SUBSCRIBE = """mutation($n: String!) { subscribeCustomer(input: {customerNumber: $n}) {
  __typename ... on Error { code } } }"""
APPLY = """mutation($n: String!, $k: String!) { applyForLoan(input: {productCode: "SCORED_MICRO",
  amount: "100", customerNumber: $n, idempotencyKey: $k}) {
  ... on LoanApplication { id } ... on Error { code message } } }"""
STATUS = "query($id: ID!) { node(id: $id) { ... on LoanApplication { status } } }"


def _call(http: httpx.Client, query: str, token: str | None = None, **variables: Any) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return body.json()["data"]


def _decided_after(http: httpx.Client, token: str, number: str) -> tuple[float, str]:
    _call(http, SUBSCRIBE, token, n=number)  # subscribed already on a second run: fine
    start = time.monotonic()
    applied = _call(http, APPLY, token, n=number, k=f"bench-{uuid.uuid4().hex}")["applyForLoan"]
    if "id" not in applied:
        raise SystemExit(f"applyForLoan for {number} was refused: {applied}")
    while True:
        status = _call(http, STATUS, token, id=applied["id"])["node"]["status"]
        if status != "PENDING":
            return time.monotonic() - start, status
        time.sleep(0.02)


def main() -> None:
    count = int(os.environ.get("BENCH_APPLICATIONS", "10"))
    with httpx.Client(base_url=URL, timeout=60) as http:
        token = _call(http, LOGIN, u=STAFF[0], p=STAFF[1])["login"]["accessToken"]
        results = [
            _decided_after(http, token, str(500_000_001 + offset)) for offset in range(count)
        ]
    seconds = [elapsed for elapsed, _ in results]
    outcomes = sorted({status for _, status in results})
    print(
        f"{count} applications, apply -> decided: median {statistics.median(seconds):.2f} s, "
        f"max {max(seconds):.2f} s (outcomes: {', '.join(outcomes)})"
    )


if __name__ == "__main__":
    main()
