"""`lendgraph serve`, `worker` and `scheduler` as separate processes on PostgreSQL and Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from app.db import make_engine, make_session_factory
from domain.outbox import ProcessedMessage, emit_job
from domain.unit_of_work import UnitOfWork
from tests.conftest import TEST_SECRET
from tests.databases import empty_all_tables
from tests.live_server import free_port
from tests.services import REDIS_URL, RUN_ID, require

ROOT = Path(__file__).resolve().parents[2]


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


@pytest.fixture
def processes(postgresql_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    require(REDIS_URL, "Redis")
    engine = make_engine(postgresql_url, pool_size=2)
    empty_all_tables(engine)
    engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": postgresql_url,
        "REDIS_URL": REDIS_URL,
        "QUEUE_NAMESPACE": f"proc-test-{RUN_ID}",
        "JWT_SECRET": TEST_SECRET,
        "ACTOR_MODULES": '["tests.workers.sample_actors"]',
        "OUTBOX_RELAY_SECONDS": "1",
    }
    started = [
        _spawn(["serve", "--port", str(port)], env, tmp_path / "serve.log"),
        _spawn(["worker", "--threads", "2"], env, tmp_path / "worker.log"),
        _spawn(["scheduler"], env, tmp_path / "scheduler.log"),
    ]
    try:
        yield f"http://127.0.0.1:{port}", postgresql_url
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)
        for log in sorted(tmp_path.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")


def _wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def test_serve_worker_and_scheduler_run_together(processes: tuple[str, str]) -> None:
    base, database_url = processes

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz").json().get("ready") is True
        except httpx.TransportError:
            return False

    assert _wait_until(ready, 60), "the API process never became ready"

    # A job whose process died between commit and dispatch: only the scheduler's relay
    # can hand it to Redis, and only the worker process can run it.
    engine = make_engine(database_url, pool_size=2)
    sessions = make_session_factory(engine)
    with sessions() as session:
        uow = UnitOfWork(session, after_commit=None)
        message = emit_job(session, "test_sample_job")
        uow.commit()

    def processed() -> bool:
        with sessions() as session:
            return (
                session.exec(
                    select(ProcessedMessage).where(ProcessedMessage.message_id == message.id)
                ).first()
                is not None
            )

    try:
        assert _wait_until(processed, 60), "the job was never relayed and run"
    finally:
        engine.dispose()
