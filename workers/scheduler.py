"""The periodic scheduler: one leader at a time (PostgreSQL advisory lock) runs the jobs.

Neither contending for the lock nor any job ever ends the scheduler: while the database or
Redis is away it logs, backs off and tries again, and takes the lead back once they return.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, Engine, text

from workers.recovery import DEFAULT_CAP_SECONDS, Backoff, is_transient, report_failure

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
        """True once this process leads; raises while the database cannot be reached."""
        if not self.exclusive:
            return True
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}
            ).scalar()
        except BaseException:
            connection.close()
            raise
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
        except Exception as error:
            log.warning("leader_lock_connection_lost", error=repr(error))
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            except Exception as error:  # the lock dies with the connection anyway
                log.warning("leader_unlock_failed", error=repr(error))
            finally:
                self._connection.close()
                self._connection = None


class ScheduledJob:
    """A periodic job that outlives its failures, each logged. After an outage it runs again
    after a backoff rather than a whole interval later (a close due at the hour must not wait
    another hour because the database was away at the hour); after any other error it waits
    for its next turn, so a bug does not spin. The retries happen inside the run itself: a
    run re-scheduled from within would find its own instance still running and be skipped."""

    def __init__(self, name: str, function: Callable[[], object], cap: float) -> None:
        self.name = name
        self.function = function
        self.backoff = Backoff(cap=cap)
        self.stopped = threading.Event()  # set when this process steps down

    def __call__(self) -> None:
        while True:
            try:
                self.function()
            except Exception as error:
                delay = self.backoff.next_delay()
                report_failure(log, "scheduled_job_failed", error, delay, job=self.name)
                if not is_transient(error) or self.stopped.wait(delay):
                    return
            else:
                self.backoff.reset()
                return


class Leadership:
    """This process's part in the election: the jobs run only while it holds the lock."""

    def __init__(self, lock: LeaderLock, jobs: list[Job], cap: float) -> None:
        self._lock = lock
        self._jobs = [(ScheduledJob(name, fn, cap), every) for name, fn, every in jobs]
        self._scheduler: BackgroundScheduler | None = None

    def keep_up(self) -> None:
        """Take the lead if free, or notice it was lost; raises while the database is away."""
        if self._scheduler is None:
            if self._lock.acquire():
                self._lead()
        elif not self._lock.still_held():
            self.step_down()
            log.warning("scheduler_leadership_lost")

    def _lead(self) -> None:
        """Start every job now, then on its interval: a leader elected after an outage checks
        at once for what fell due meanwhile (the daily close among it)."""
        scheduler = BackgroundScheduler(timezone="UTC")
        now = datetime.now(UTC)
        for job, every in self._jobs:
            job.stopped = threading.Event()
            scheduler.add_job(
                job,
                "interval",
                seconds=every,
                id=job.name,
                max_instances=1,
                coalesce=True,
                next_run_time=now,
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler_leader_elected", jobs=[job.name for job, _ in self._jobs])

    def step_down(self, wait: bool = False) -> None:
        scheduler, self._scheduler = self._scheduler, None
        for job, _ in self._jobs:
            job.stopped.set()  # a job waiting out an outage gives up its retries
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=wait)
        self._lock.release()


def run_scheduler(
    lock: LeaderLock,
    jobs: list[Job],
    stop: threading.Event,
    check_every: float = 5.0,
    backoff_cap: float = DEFAULT_CAP_SECONDS,
) -> None:
    """Contend for leadership; while leader, run `jobs` on their intervals until `stop`."""
    leadership = Leadership(lock, jobs, backoff_cap)
    backoff = Backoff(cap=backoff_cap)
    while not stop.is_set():
        try:
            leadership.keep_up()
        except Exception as error:
            leadership.step_down()
            delay = backoff.next_delay()
            report_failure(log, "scheduler_contention_failed", error, delay)
            stop.wait(delay)
            continue
        backoff.reset()
        stop.wait(check_every)
    leadership.step_down(wait=True)
