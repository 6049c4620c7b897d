"""The periodic scheduler: one leader at a time (PostgreSQL advisory lock) runs the jobs."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, Engine, text

log = structlog.get_logger(__name__)

LEADER_LOCK_KEY = 0x4C454E44  # "LEND"
Job = tuple[str, Callable[[], object], int]  # (name, function, every N seconds)


class LeaderLock:
    """Held for as long as its own database connection lives; SQLite has one process."""

    def __init__(self, engine: Engine, key: int = LEADER_LOCK_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection: Connection | None = None

    @property
    def exclusive(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    def acquire(self) -> bool:
        if not self.exclusive:
            return True
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar()
        if got:
            self._connection = connection
            return True
        connection.close()
        return False

    def still_held(self) -> bool:
        if not self.exclusive:
            return True
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
        except Exception:
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            except Exception:
                log.warning("leader_unlock_failed")  # the lock dies with the connection
            finally:
                self._connection.close()
                self._connection = None


def run_scheduler(
    lock: LeaderLock, jobs: list[Job], stop: threading.Event, check_every: float = 5.0
) -> None:
    """Contend for leadership; while leader, run `jobs` on their intervals until `stop`."""
    scheduler: BackgroundScheduler | None = None
    while not stop.is_set():
        if scheduler is None and lock.acquire():
            scheduler = BackgroundScheduler(timezone="UTC")
            for name, function, seconds in jobs:
                scheduler.add_job(
                    function, "interval", seconds=seconds, id=name, max_instances=1, coalesce=True
                )
            scheduler.start()
            log.info("scheduler_leader_elected", jobs=[name for name, _, _ in jobs])
        elif scheduler is not None and not lock.still_held():
            scheduler.shutdown(wait=False)
            scheduler = None
            log.warning("scheduler_leadership_lost")
        stop.wait(check_every)
    if scheduler is not None:
        scheduler.shutdown(wait=True)
    lock.release()
