"""One scheduler leads at a time (PostgreSQL advisory lock); the leader runs the jobs."""

import threading
import time

from sqlalchemy.exc import OperationalError

from app.db import make_engine
from workers.scheduler import Job, LeaderLock, run_scheduler


def test_only_one_process_holds_the_leader_lock(postgresql_url: str) -> None:
    engine = make_engine(postgresql_url, pool_size=3)
    first, second = LeaderLock(engine, key=4242), LeaderLock(engine, key=4242)
    try:
        assert first.acquire() is True
        assert second.acquire() is False
        assert first.still_held()
        first.release()
        assert second.acquire() is True
    finally:
        first.release()
        second.release()
        engine.dispose()


def test_the_leader_runs_its_jobs_until_stopped(postgresql_url: str) -> None:
    engine = make_engine(postgresql_url, pool_size=3)
    ran = threading.Event()
    stop = threading.Event()
    thread = threading.Thread(
        target=run_scheduler,
        args=(LeaderLock(engine, key=4343), [("tick", ran.set, 1)], stop, 0.2),
    )
    thread.start()
    try:
        assert ran.wait(10)
    finally:
        stop.set()
        thread.join(10)
        engine.dispose()
    assert not thread.is_alive()
    rival = LeaderLock(make_engine(postgresql_url, pool_size=1), key=4343)
    assert rival.acquire() is True  # released on stop
    rival.release()


class FlakyLock:
    """A leader lock on a database that is away for the first `outage` tries."""

    def __init__(self, outage: int) -> None:
        self.outage = outage
        self.tries = 0

    def acquire(self) -> bool:
        self.tries += 1
        if self.tries <= self.outage:
            raise OperationalError("SELECT pg_try_advisory_lock", {}, ConnectionRefusedError())
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def _run(lock: object, jobs: list[Job], stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(
        target=run_scheduler, args=(lock, jobs, stop, 0.05), kwargs={"backoff_cap": 0.1}
    )
    thread.start()
    return thread


def test_the_scheduler_keeps_contending_while_the_database_is_away() -> None:
    lock, ran, stop = FlakyLock(outage=5), threading.Event(), threading.Event()
    thread = _run(lock, [("tick", ran.set, 3600)], stop)
    try:
        assert ran.wait(10), "the scheduler never led once the database was back"
        assert lock.tries == 6
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_a_job_that_meets_an_outage_runs_again_after_a_backoff_not_an_interval() -> None:
    calls: list[float] = []

    def close_the_day() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OperationalError("SELECT business_date", {}, ConnectionRefusedError())

    stop = threading.Event()
    thread = _run(FlakyLock(outage=0), [("close-business-day", close_the_day, 3600)], stop)
    try:
        deadline = time.monotonic() + 10
        while len(calls) < 2:
            assert time.monotonic() < deadline, "the failed job waited for its next interval"
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(10)
    assert len(calls) == 2  # once recovered, back to its interval


def test_a_job_that_fails_for_another_reason_waits_for_its_next_turn() -> None:
    calls: list[float] = []

    def broken() -> None:
        calls.append(time.monotonic())
        raise ValueError("a bug, not an outage")

    stop = threading.Event()
    thread = _run(FlakyLock(outage=0), [("broken", broken, 3600)], stop)
    try:
        time.sleep(1.0)
    finally:
        stop.set()
        thread.join(10)
    assert len(calls) == 1
    assert not thread.is_alive()
