"""Everything a fault acts on, set up and torn down in one place: private PostgreSQL and
Redis servers, a mail server, the seeded book (and a clean close of the same day to compare
with), the production processes, and the websocket subscribers listening throughout."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from bench.billing import DAY, close_results
from bench.chaos.book import STAFF, Book, create_database, seed_book, seed_day_to_close
from bench.chaos.fleet import ROOT, Fleet, production_env
from bench.chaos.load import Subscriber
from bench.chaos.probes import Probes
from bench.private_servers import PrivatePostgres, PrivateRedis, free_port

LOGIN = (
    "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) "
    "{ ... on AuthTokens { accessToken } ... on Error { code message } } }"
)


@dataclass(frozen=True)
class Config:
    """The run's size and timings; `from_env` reads each from CHAOS_<NAME>."""

    clients: int = 8
    subscribers: int = 2
    pg_down_seconds: float = 30
    redis_down_seconds: float = 20
    api_workers: int = 2
    workers: int = 2
    worker_threads: int = 4
    close_loans: int = 1500
    close_timeout: float = 240
    settle_seconds: float = 30
    warmup_seconds: float = 3
    after_seconds: float = 5
    # Least lasting harm first: on a build where a fault leaves something broken for good
    # (today: the scheduler's thread after the PostgreSQL outage), the faults before it
    # are still measured on a whole system.
    faults: str = "scheduler,worker,redis,postgres"

    @classmethod
    def from_env(cls) -> Config:
        given = {}
        for name, kind in cls.__annotations__.items():
            value = os.environ.get(f"CHAOS_{name.upper()}")
            if value is not None:
                given[name] = {"int": int, "float": float}.get(kind, str)(value)
        return cls(**given)

    @property
    def patience(self) -> float:
        """How long a client keeps retrying one payment before giving up."""
        return max(self.pg_down_seconds, self.redis_down_seconds) + 30


class Mailbox:
    """An SMTP server that accepts every message and counts them."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 OK"


@dataclass
class World:
    config: Config
    postgres: PrivatePostgres
    redis: PrivateRedis
    fleet: Fleet
    probes: Probes
    book: Book
    token: str
    mailbox: Mailbox
    reference: dict[str, list[Any]]  # what a clean close of the same day leaves
    subscribers: list[Subscriber] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return self.fleet.env["DATABASE_URL"]


def _clean_close(url: str, loans: int, logs: Path) -> dict[str, list[Any]]:
    """The day closed once, undisturbed, in a copy of the book (one embedded process)."""
    seed_day_to_close(url, loans)
    unset = ("REDIS_URL", "LENDGRAPH_ENV", "SMTP_HOST")
    env = {k: v for k, v in os.environ.items() if k not in unset} | {"DATABASE_URL": url}
    command = [sys.executable, "-m", "app.cli", "billing", "run", "--as-of", DAY.isoformat()]
    with (logs / "clean-close.log").open("ab") as log:
        subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=log, check=True)
    return close_results(url, loans)


def _sign_in(base_url: str, password: str) -> str:
    answer = httpx.post(
        f"{base_url}/graphql", json={"query": LOGIN, "variables": {"u": STAFF, "p": password}}
    ).json()
    return str(answer["data"]["login"]["accessToken"])


@contextlib.contextmanager
def world(config: Config, logs: Path, say: Callable[[str], None]) -> Iterator[World]:
    """Set everything up; tear everything down on the way out, whatever happened."""
    with contextlib.ExitStack() as teardown:
        try:
            yield _set_up(config, logs, say, teardown)
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C waits for teardown


def _servers(
    teardown: contextlib.ExitStack,
) -> tuple[PrivatePostgres, PrivateRedis, Mailbox, int]:
    """PostgreSQL, Redis and a mail server of its own, each stopped on the way out."""
    postgres = PrivatePostgres()
    teardown.callback(_quietly, postgres.remove)
    postgres.start()
    redis = PrivateRedis()
    teardown.callback(_quietly, redis.stop)
    redis.start()
    mailbox, smtp_port = Mailbox(), free_port()
    mail = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    mail.start()
    teardown.callback(_quietly, mail.stop)
    return postgres, redis, mailbox, smtp_port


def _set_up(
    config: Config, logs: Path, say: Callable[[str], None], teardown: contextlib.ExitStack
) -> World:
    postgres, redis, mailbox, smtp_port = _servers(teardown)
    say(f"private PostgreSQL on port {postgres.port}, Redis on {redis.port}; logs in {logs}")
    started = time.monotonic()
    for name in ("lendgraph", "clean_close"):
        create_database(postgres.url, name)
    url = postgres.database_url("lendgraph")
    book = seed_book(url, config.clients, config.close_loans)
    reference = _clean_close(postgres.database_url("clean_close"), config.close_loans, logs)
    say(f"seeded the book and closed a clean copy of its day in {time.monotonic() - started:.0f} s")

    fleet = Fleet(production_env(url, redis.url, smtp_port), logs, free_port())
    teardown.callback(_quietly, fleet.stop)
    fleet.start(config.api_workers, config.workers, config.worker_threads)
    probes = Probes(url)
    teardown.callback(_quietly, probes.dispose)
    token = _sign_in(fleet.base_url, book.staff_password)
    the_world = World(config, postgres, redis, fleet, probes, book, token, mailbox, reference)
    for _ in range(config.subscribers):
        subscriber = Subscriber(fleet.base_url, token).start()
        teardown.callback(_quietly, subscriber.stop)
        the_world.subscribers.append(subscriber)
    return the_world


def _quietly(step: Callable[[], object]) -> None:
    """A teardown step that fails (the server already gone, ...) does not stop the others."""
    try:
        step()
    except Exception as error:
        print(f"teardown: {getattr(step, '__qualname__', step)} failed: {error!r}")
