"""One scheduler leads at a time (PostgreSQL advisory lock); the leader runs the jobs."""

import threading

from app.db import make_engine
from workers.scheduler import LeaderLock, run_scheduler


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
