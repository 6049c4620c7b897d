"""The daily close by real `lendgraph worker` processes on PostgreSQL and Redis: closing a day
twice, or killing a worker mid-run and running the day again, leaves exactly the accruals,
bills, notifications, loan states and ledger of one clean close, compared row by row."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from app.migrations import migrate
from bench.billing import DAY, close_results, seed_a_day_with_notices
from bench.common import throwaway_database
from tests.services import PG_ADMIN_URL, REDIS_URL, RUN_ID, require

ROOT = Path(__file__).resolve().parents[2]
LOANS = 1500


def _env(url: str, namespace: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "QUEUE_NAMESPACE": namespace,
        "BILLING_CHUNK_SIZE": "50",
        "LOG_LEVEL": "WARNING",
    }


def _worker(env: dict[str, str], log: Path, threads: int = 1) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--threads", str(threads)],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _close(env: dict[str, str], wait: bool = True) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "billing", "run", "--as-of", DAY.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if wait:
        assert process.wait(timeout=240) == 0
    return process


def _run_status(url: str) -> str | None:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        status = connection.execute(sa.text("SELECT status FROM billing_runs")).scalar()
    engine.dispose()
    return None if status is None else str(status)


def _chunks_done(url: str) -> tuple[int, int]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT chunks_done, chunks_total FROM billing_runs")
        ).first()
    engine.dispose()
    return (row[0], row[1]) if row is not None else (0, 0)


@pytest.fixture
def two_books() -> Iterator[tuple[str, str]]:
    require(PG_ADMIN_URL, "PostgreSQL")
    require(REDIS_URL, "Redis")
    with (
        throwaway_database("lendgraph_test_close") as clean,
        throwaway_database("lendgraph_test_close") as crashed,
    ):
        migrate(clean)
        migrate(crashed)
        seed_a_day_with_notices(clean, LOANS)
        seed_a_day_with_notices(crashed, LOANS)
        yield clean, crashed


@pytest.mark.postgres
@pytest.mark.redis
def test_a_day_closed_twice_or_after_a_killed_worker_equals_one_clean_close(
    two_books: tuple[str, str], tmp_path: Path
) -> None:
    clean, crashed = two_books
    clean_env, crashed_env = _env(clean, f"bill-a-{RUN_ID}"), _env(crashed, f"bill-b-{RUN_ID}")
    worker = _worker(clean_env, tmp_path / "clean.log")
    try:
        _close(clean_env)
        reference = close_results(clean, LOANS)
        _close(clean_env)  # the same day again
        assert close_results(clean, LOANS) == reference
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert reference["accruals"] and reference["bills"] and reference["notifications"]

    doomed = _worker(crashed_env, tmp_path / "crashed.log")
    follower = _close(crashed_env, wait=False)
    deadline = time.monotonic() + 120
    while _chunks_done(crashed)[0] < 3:
        assert time.monotonic() < deadline, "the run did not start"
        time.sleep(0.02)
    doomed.send_signal(signal.SIGKILL)  # mid-run, mid-chunk as likely as not
    doomed.wait(timeout=30)
    follower.kill()
    done, total = _chunks_done(crashed)
    assert done < total

    survivor = _worker(crashed_env, tmp_path / "survivor.log")
    try:
        _close(crashed_env)  # running the day again carries on where the dead worker stopped
    finally:
        survivor.terminate()
        survivor.wait(timeout=30)
    assert close_results(crashed, LOANS) == reference


@pytest.fixture
def book() -> Iterator[str]:
    require(PG_ADMIN_URL, "PostgreSQL")
    require(REDIS_URL, "Redis")
    with throwaway_database("lendgraph_test_close") as url:
        migrate(url)
        seed_a_day_with_notices(url, LOANS)
        yield url


def _consuming(namespace: str, workers: int) -> None:
    """Wait until `workers` worker processes poll the queues (each keeps a heartbeat)."""
    client = redis.Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + 60
    while client.zcard(f"{namespace}:__heartbeats__") < workers:
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.1)
    client.close()


@pytest.mark.postgres
@pytest.mark.redis
def test_a_killed_worker_delays_the_close_by_no_more_than_the_chunks_it_was_closing(
    book: str, tmp_path: Path
) -> None:
    namespace = f"bill-k-{RUN_ID}"
    env = _env(book, namespace)
    # Four threads fetch up to eight chunk jobs from the queue ahead of their work; before
    # chunks were claimed in the database those stayed with the dead worker until Dramatiq's
    # dead-worker requeue, minutes later.
    doomed = _worker(env, tmp_path / "doomed.log", threads=4)
    survivor = _worker(env, tmp_path / "survivor.log")
    follower: subprocess.Popen[bytes] | None = None
    try:
        _consuming(namespace, 2)
        follower = _close(env, wait=False)  # queues the day; no scheduler runs in this test
        deadline = time.monotonic() + 120
        while _chunks_done(book)[0] < 3:
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.02)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        killed_at = time.monotonic()
        assert _chunks_done(book)[0] < _chunks_done(book)[1]

        while _run_status(book) != "COMPLETED":  # a bound for the test, not a benchmark
            assert time.monotonic() - killed_at < 60, f"stuck at {_chunks_done(book)}"
            time.sleep(0.1)
        print(f"closed {time.monotonic() - killed_at:.1f} s after the kill")
    finally:
        for process in (follower, survivor, doomed):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    done, total = _chunks_done(book)
    assert done == total
