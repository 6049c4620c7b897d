"""Outbox delivery on PostgreSQL with a real Redis broker and Dramatiq worker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dramatiq
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, func, select

from app.db import make_engine, make_session_factory
from domain.outbox import OutboxMessage, ProcessedMessage, emit_event, emit_job
from domain.tables import utcnow
from domain.unit_of_work import UnitOfWork
from tests.databases import empty_all_tables
from tests.redis_server import PrivateRedis
from workers import runtime
from workers.broker import setup_broker
from workers.consuming import consume_once
from workers.outbox import BrokerUnavailable, OutboxDispatcher, events_since

QUEUE = "lendgraph_test_outbox"
APPLIED: list[str] = []


@dramatiq.actor(actor_name="test_outbox_effect", queue_name=QUEUE, max_retries=0)
def apply_effect(message_id: str, note: str) -> None:
    consume_once("test_outbox_effect", message_id, lambda _session: APPLIED.append(note))


class RecordingEvents:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self.published.append((topic, payload))


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_sessions(postgresql_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(postgresql_url, pool_size=5)
    empty_all_tables(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def outbox(pg_sessions: sessionmaker[Session], redis_server: PrivateRedis) -> Iterator[Any]:
    APPLIED.clear()
    broker = setup_broker(redis_server.url, namespace="outbox-test")
    events = RecordingEvents()
    dispatcher = OutboxDispatcher(pg_sessions, broker, events, relay_after=timedelta(0))
    runtime.install(runtime.WorkerRuntime(pg_sessions, dispatcher.dispatch))

    class Harness:
        def __init__(self) -> None:
            self.broker, self.events, self.dispatcher = broker, events, dispatcher
            self.redis = redis_server

        def run_worker_until_idle(self) -> None:
            worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
            worker.start()
            try:
                broker.join(QUEUE, timeout=20_000)
                worker.join()
            finally:
                worker.stop()

        def emit_and_commit(self, note: str) -> str:
            with pg_sessions() as session:
                uow = UnitOfWork(session, dispatcher.dispatch)
                with uow.transaction():
                    message = emit_job(session, "test_outbox_effect", note=note)
                    uow.commit()
                return message.id

    yield Harness()
    broker.close()


def _outbox_rows(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.exec(select(OutboxMessage)).all())


def _claims(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.exec(select(func.count()).select_from(ProcessedMessage)).one()


def test_a_message_from_a_rolled_back_transaction_is_never_delivered(
    outbox: Any, pg_sessions: sessionmaker[Session]
) -> None:
    with pg_sessions() as session:
        uow = UnitOfWork(session, outbox.dispatcher.dispatch)
        with uow.transaction():
            emit_job(session, "test_outbox_effect", note="rolled back")
            emit_event(session, "loanUpdated", loanId=1)
            session.flush()
            # the use case fails here: no commit
    assert outbox.dispatcher.relay() == 0
    outbox.run_worker_until_idle()
    assert APPLIED == []
    assert outbox.events.published == []
    assert _outbox_rows(pg_sessions) == []


def test_a_committed_message_is_delivered_once_even_when_sent_twice(
    outbox: Any, pg_sessions: sessionmaker[Session]
) -> None:
    message_id = outbox.emit_and_commit("committed")
    outbox.run_worker_until_idle()
    assert APPLIED == ["committed"]
    [row] = _outbox_rows(pg_sessions)
    assert row.dispatched_at is not None
    assert row.completed_at is not None  # the worker recorded it: the lost-job sweep skips it

    # A relay that crashed after sending but before marking would send it again:
    with pg_sessions() as session:
        session.exec(sa.update(OutboxMessage).values(dispatched_at=None))
        session.commit()
    assert outbox.dispatcher.relay() == 1
    outbox.run_worker_until_idle()
    assert APPLIED == ["committed"]
    assert _claims(pg_sessions) == 1
    assert message_id == row.id


def test_a_message_committed_while_redis_is_down_is_delivered_once_it_is_back(
    outbox: Any, pg_sessions: sessionmaker[Session]
) -> None:
    outbox.redis.stop()
    outbox.emit_and_commit("during outage")  # the commit itself succeeds
    outbox.emit_and_commit("also during outage")
    for _ in range(8):  # a long outage: the relay keeps trying (its caller backs off)
        with pytest.raises(BrokerUnavailable):
            outbox.dispatcher.relay()
    rows = _outbox_rows(pg_sessions)
    assert all(row.dispatched_at is None and row.last_error for row in rows)
    assert all(row.retry_at is None for row in rows)  # no message waits on its own afterwards

    outbox.redis.start()
    assert outbox.dispatcher.relay() == 2  # at once: the outage's length costs no extra wait
    assert outbox.dispatcher.relay() == 0
    outbox.run_worker_until_idle()
    assert sorted(APPLIED) == ["also during outage", "during outage"]
    assert _claims(pg_sessions) == 2


def test_a_message_that_keeps_failing_backs_off_and_starves_nothing(
    outbox: Any, pg_sessions: sessionmaker[Session]
) -> None:
    with pg_sessions() as session:
        uow = UnitOfWork(session, outbox.dispatcher.dispatch)
        broken = emit_job(session, "no_such_actor")
        uow.commit()
    outbox.emit_and_commit("healthy")
    outbox.run_worker_until_idle()
    assert APPLIED == ["healthy"]
    rows = {row.id: row for row in _outbox_rows(pg_sessions)}
    assert rows[broken.id].dispatched_at is None and rows[broken.id].attempts == 1
    assert outbox.dispatcher.relay() == 0  # not due again yet: the relay does not spin on it


def test_events_are_published_after_commit_with_their_message_id(
    outbox: Any, pg_sessions: sessionmaker[Session]
) -> None:
    with pg_sessions() as session:
        uow = UnitOfWork(session, outbox.dispatcher.dispatch)
        with uow.transaction():
            message = emit_event(session, "loanUpdated", loanId=7)
            session.flush()
            assert outbox.events.published == []
            uow.commit()
    assert outbox.events.published == [("loanUpdated", {"messageId": message.id, "loanId": 7})]


def test_an_event_hub_replays_events_sent_since_a_moment_or_not_sent_yet(
    pg_sessions: sessionmaker[Session],
) -> None:
    """What an event hub reads back after losing Redis: in the shape it was published, jobs
    left out, oldest first, up to a limit."""
    with pg_sessions() as session:
        early = emit_event(session, "paymentReceived", n=1)
        emit_job(session, "test_outbox_effect", note="a job, never replayed")
        sent = emit_event(session, "loanUpdated", n=2)
        waiting = emit_event(session, "paymentReceived", n=3)
        session.commit()
        before, moment = utcnow() - timedelta(minutes=5), utcnow()
        session.exec(sa.update(OutboxMessage).values(dispatched_at=moment))
        session.exec(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == early.id)
            .values(dispatched_at=before)
        )
        session.exec(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == waiting.id)
            .values(dispatched_at=None)
        )
        session.commit()

    replayed = events_since(pg_sessions, moment - timedelta(seconds=1), 10)

    assert replayed == [
        ("loanUpdated", {"messageId": sent.id, "n": 2}),
        ("paymentReceived", {"messageId": waiting.id, "n": 3}),
    ]
    assert events_since(pg_sessions, moment - timedelta(seconds=1), 1) == replayed[:1]
    assert len(events_since(pg_sessions, before, 10)) == 3
