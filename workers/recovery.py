"""Riding out outages: which errors mean "the database or Redis is away, try again later", and
how long a loop waits before it does.

Every long-lived loop (scheduler leadership and its jobs, the outbox relay, the event hub's
listener, the websocket's token re-check) backs off the same way: delays that double up to a
cap, each drawn at random from the upper half of its range, so processes that failed together
do not all come back in the same instant. None of them gives up: an outage of any length ends
with the loop running again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import redis
from dramatiq.errors import BrokerConnectionError
from sqlalchemy.exc import InterfaceError

from domain.database_outage import is_database_outage

DEFAULT_CAP_SECONDS = 30.0
_TRANSIENT = (  # beyond the database outages domain.database_outage tells from bugs
    InterfaceError,  # a connection closed under the driver
    redis.ConnectionError,
    redis.TimeoutError,
    BrokerConnectionError,
    ConnectionError,
    TimeoutError,
)


@dataclass
class Backoff:
    """Capped exponential backoff with jitter: about base, 2 x base, 4 x base ... then `cap`."""

    base: float = 0.5
    cap: float = DEFAULT_CAP_SECONDS
    failures: int = 0

    def next_delay(self) -> float:
        """The wait before the next try; each call counts one more failure."""
        ceiling = min(self.cap, self.base * 2 ** min(self.failures, 32))
        self.failures += 1
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - spreading retries, not secrets

    def reset(self) -> None:
        self.failures = 0


def is_transient(error: BaseException) -> bool:
    """True when trying again later can succeed (an outage), false for a bug or a refusal."""
    return is_database_outage(error) or isinstance(error, _TRANSIENT)


def report_failure(
    log: Any, event: str, error: BaseException, retry_in: float, **context: Any
) -> None:
    """Log a failure a loop will retry: an outage as a warning, anything else with its
    traceback (a bug must not hide among outage noise, nor stop the loop)."""
    fields = {"error": repr(error), "retry_in": round(retry_in, 2), **context}
    if is_transient(error):
        log.warning(event, **fields)
    else:
        log.error(event, exc_info=error, **fields)
