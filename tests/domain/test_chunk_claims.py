"""Who closes which chunk of a day (issue 21.6): a chunk is claimed by the transaction closing
it, so others skip it meanwhile, a killed worker's claim ends with its connection, and a run
is resumed only when no one is closing any of its chunks. PostgreSQL: the claim is a row lock."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select, update

from app.db import make_engine, make_session_factory
from domain.billing.runs import (
    OPEN_ACTOR,
    BillingChunk,
    claim_chunk,
    close_chunk,
    open_run,
    request_close,
    resume_stalled_runs,
)
from domain.outbox import OutboxMessage
from tests.databases import assert_ledger_balances, empty_all_tables
from tests.domain.test_billing_runs import DISBURSED, NOW, card_loan, close_days, pin


@pytest.fixture
def pg_sessions(postgresql_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(postgresql_url, pool_size=4)
    empty_all_tables(engine)
    yield make_session_factory(engine)
    assert_ledger_balances(engine)
    engine.dispose()


@pytest.fixture
def chunks(pg_sessions: sessionmaker[Session]) -> list[int]:
    """A day of three card loans, opened in three chunks whose jobs are all still queued."""
    with pg_sessions() as session:
        for number in range(9001, 9004):
            card_loan(session, number)
        pin(session, DISBURSED + timedelta(days=2))
        close_days(session, DISBURSED)
        (run,) = request_close(session, DISBURSED + timedelta(days=1), NOW)
        assert run.id is not None
        open_run(session, run.id, 1, NOW)
        ids = session.exec(select(BillingChunk.id).where(BillingChunk.run_id == run.id)).all()
        session.commit()
    return sorted(i for i in ids if i is not None)


def test_a_job_claims_its_own_chunk_or_else_one_no_one_is_closing(
    pg_sessions: sessionmaker[Session], chunks: list[int]
) -> None:
    first, second, third = chunks
    with pg_sessions() as closing, pg_sessions() as other:
        assert claim_chunk(closing, second) == second  # a worker is closing it
        assert claim_chunk(other, second) == first  # so this job takes the next free one
        assert close_chunk(other, first, NOW)
        other.commit()
        assert claim_chunk(other, first) == third  # its own is closed: it goes on
        other.rollback()


def test_a_chunk_held_by_a_killed_worker_is_free_once_its_connection_is_gone(
    pg_sessions: sessionmaker[Session], chunks: list[int]
) -> None:
    first, *_ = chunks
    killed = pg_sessions()
    assert claim_chunk(killed, first) == first
    with pg_sessions() as live:
        assert claim_chunk(live, first) != first
        live.rollback()
        killed.connection().invalidate()  # what PostgreSQL sees when the process dies
        killed.close()
        assert claim_chunk(live, first) == first


def test_a_stalled_day_is_resumed_only_when_no_one_is_closing_any_of_its_chunks(
    pg_sessions: sessionmaker[Session], chunks: list[int]
) -> None:
    later = NOW + timedelta(minutes=5)
    with pg_sessions() as closing, pg_sessions() as sweep:
        assert claim_chunk(closing, chunks[0]) == chunks[0]
        assert resume_stalled_runs(sweep, later, timedelta(minutes=1)) == 0  # someone is at it
        sweep.rollback()
        closing.rollback()  # ...and stopped
        assert resume_stalled_runs(sweep, NOW, timedelta(minutes=1)) == 0  # it moved lately
        assert resume_stalled_runs(sweep, later, timedelta(minutes=1)) == 3
        sweep.commit()


def test_a_day_waiting_to_open_is_queued_once_while_its_job_waits_to_be_sent(
    pg_sessions: sessionmaker[Session],
) -> None:
    with pg_sessions() as session:
        card_loan(session, 9001)
        pin(session, DISBURSED + timedelta(days=2))
        close_days(session, DISBURSED)
        session.exec(update(OutboxMessage).values(dispatched_at=NOW))  # the relay sent them
        request_close(session, DISBURSED + timedelta(days=1), NOW)  # queues its opening
        for minutes in range(1, 6):  # sweeps while Redis is away: the job cannot leave
            resume_stalled_runs(session, NOW + timedelta(minutes=minutes), timedelta(minutes=1))
        opening = select(OutboxMessage).where(OutboxMessage.name == OPEN_ACTOR)
        assert (
            len(session.exec(opening.where(col(OutboxMessage.dispatched_at).is_(None))).all()) == 1
        )
