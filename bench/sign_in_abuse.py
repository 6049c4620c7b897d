"""Signed-in latency while anonymous clients hammer the sign-in mutations (issue 15).

Creates a throwaway PostgreSQL database with one customer, serves the API as production
does (`LENDGRAPH_ENV=production`, PostgreSQL, Redis, default pools and limits), signs the
customer in, then for each scenario lets BENCH_ATTACKERS anonymous clients post sign-ins
as fast as the answers come back while one signed-in client asks `{ me { username } }` in
a loop and an honest client signs in every few seconds. Prints, per scenario, the signed-in
p50/p99/max latency, the honest sign-ins' latency, and what the attackers were answered.
Figures, not assertions: the machine's other load shows in them.

Scenarios (each BENCH_SECONDS long):
  quiet                 no attackers: the baseline
  aliased, one address  each request holds BENCH_ALIASES aliased logins with fresh usernames
  plain, one address    one login per request, fresh usernames, all from one address
  plain, botnet         one login per request, each from a fresh X-Forwarded-For address
                        (uvicorn trusts the header from 127.0.0.1), so no per-address
                        limit ever applies: only the separate sign-in pool protects

    .venv/bin/python bench/sign_in_abuse.py
    BENCH_SECONDS=30 BENCH_ATTACKERS=20 BENCH_WORKERS=1 .venv/bin/python bench/sign_in_abuse.py

Needs PostgreSQL (BENCH_ADMIN_URL) and Redis (REDIS_URL, default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import math
import os
import secrets
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.db import make_engine, make_session_factory
from app.migrations import migrate
from bench.common import start_server, throwaway_database
from domain.users import Role, create_user
from tests.live_server import free_port

CUSTOMER, PASSWORD = "bench_customer", "bench-customer-password"
ME = "{ me { username } }"
LOGIN = (
    'login(input: {username: "%s", password: "not the password"}) '
    "{ __typename ... on Error { code } }"
)


@dataclass
class Figures:
    me: list[float] = field(default_factory=list)
    honest: list[float] = field(default_factory=list)
    honest_outcomes: Counter[str] = field(default_factory=Counter)
    attacks: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _outcome(response: httpx.Response) -> str:
    """What one answer was: the first error's code, or the first result's type name."""
    body = response.json()
    if body.get("errors"):
        code = body["errors"][0].get("extensions", {}).get("code", "GRAPHQL_ERROR")
        return f"{response.status_code} {code}"
    first = next(iter(body["data"].values()))
    return f"{response.status_code} {first.get('code') or first['__typename']}"


def _address() -> str:
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def _aliased(aliases: int) -> Callable[[], tuple[str, dict[str, str]]]:
    def request() -> tuple[str, dict[str, str]]:
        fields = " ".join(f"l{n}: " + LOGIN % f"u{secrets.token_hex(6)}" for n in range(aliases))
        return "mutation { " + fields + " }", {"x-forwarded-for": "10.0.0.1"}

    return request


def _plain(botnet: bool) -> Callable[[], tuple[str, dict[str, str]]]:
    def request() -> tuple[str, dict[str, str]]:
        address = _address() if botnet else "10.0.0.2"
        query = "mutation { " + LOGIN % f"u{secrets.token_hex(6)}" + " }"
        return query, {"x-forwarded-for": address}

    return request


def _attack(base: str, deadline: float, make: Callable[[], Any], figures: Figures) -> None:
    with httpx.Client(base_url=base, timeout=600) as http:
        while time.monotonic() < deadline:
            query, headers = make()
            answer = http.post("/graphql", json={"query": query}, headers=headers)
            with figures.lock:
                figures.attacks[_outcome(answer)] += 1


def _ask_me(base: str, token: str, deadline: float, figures: Figures) -> None:
    with httpx.Client(base_url=base, timeout=600) as http:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            answer = http.post(
                "/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"}
            )
            elapsed = time.perf_counter() - started
            assert answer.json()["data"]["me"]["username"] == CUSTOMER, answer.text
            figures.me.append(elapsed)
            time.sleep(0.02)


def _sign_in_honestly(base: str, deadline: float, figures: Figures) -> None:
    query = (
        f'mutation {{ login(input: {{username: "{CUSTOMER}", password: "{PASSWORD}"}}) '
        "{ __typename ... on Error { code } } }"
    )
    with httpx.Client(base_url=base, timeout=600) as http:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            answer = http.post(
                "/graphql", json={"query": query}, headers={"x-forwarded-for": "10.0.0.9"}
            )
            figures.honest.append(time.perf_counter() - started)
            figures.honest_outcomes[_outcome(answer)] += 1
            # every 7 s stays within the default per-username budget
            time.sleep(max(0.0, min(7.0, deadline - time.monotonic())))


def _run(base: str, token: str, seconds: float, attackers: int, make: Any) -> Figures:
    figures = Figures()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=_ask_me, args=(base, token, deadline, figures))]
    threads.append(threading.Thread(target=_sign_in_honestly, args=(base, deadline, figures)))
    if make is not None:
        threads += [
            threading.Thread(target=_attack, args=(base, deadline, make, figures))
            for _ in range(attackers)
        ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return figures


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] * 1000


def _print(name: str, figures: Figures) -> None:
    me = figures.me
    print(f"\n{name}")
    print(
        f"  signed-in me       n={len(me)}  p50 {_percentile(me, 0.5):.1f} ms  "
        f"p99 {_percentile(me, 0.99):.1f} ms  max {max(me) * 1000:.1f} ms"
    )
    honest = ", ".join(f"{int(t * 1000)} ms" for t in figures.honest)
    print(f"  honest sign-ins    {honest}  {dict(figures.honest_outcomes)}")
    if figures.attacks:
        print(f"  attacker answers   {dict(figures.attacks.most_common())}")


def _seed(url: str) -> None:
    migrate(url)
    engine = make_engine(url, pool_size=1)
    with make_session_factory(engine)() as session:
        create_user(session, CUSTOMER, PASSWORD, Role.CUSTOMER)
        session.commit()
    engine.dispose()


def _server_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "LENDGRAPH_ENV": "production",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "SCORING_CALLBACK_PASSWORD": secrets.token_urlsafe(24),
        "CBS_URL": "",
        "DATABASE_URL": url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "QUEUE_NAMESPACE": f"bench-{secrets.token_hex(4)}",
        "EMBEDDED_SCHEDULER": "false",
        "SEED_ON_START": "false",
        "LOG_LEVEL": "WARNING",
    }


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "20"))
    attackers = int(os.environ.get("BENCH_ATTACKERS", "20"))
    aliases = int(os.environ.get("BENCH_ALIASES", "15"))
    workers = os.environ.get("BENCH_WORKERS", "1")
    scenarios = [
        ("quiet", None),
        (f"aliased ({aliases} logins a request), one address", _aliased(aliases)),
        ("plain (1 login a request), one address", _plain(botnet=False)),
        ("plain (1 login a request), botnet: a fresh address each request", _plain(botnet=True)),
    ]
    with throwaway_database() as url:
        _seed(url)
        port = free_port()
        server = start_server(_server_env(url), port, "--workers", workers)
        base = f"http://127.0.0.1:{port}"
        try:
            signed_in = httpx.post(
                f"{base}/graphql",
                json={
                    "query": f'mutation {{ login(input: {{username: "{CUSTOMER}", '
                    f'password: "{PASSWORD}"}}) {{ ... on AuthTokens {{ accessToken }} }} }}'
                },
            ).json()
            token = signed_in["data"]["login"]["accessToken"]
            print(f"{attackers} attackers, {seconds:.0f} s a scenario, {workers} uvicorn worker(s)")
            for name, make in scenarios:
                _print(name, _run(base, token, seconds, attackers, make))
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
