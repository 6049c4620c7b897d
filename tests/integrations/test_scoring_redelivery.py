"""At-least-once delivery: scoring jobs run twice, or at the same time in several threads,
still make one decision, one loan, one pay-out and one notification (RULES.md §3)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import Session, col, func, select, update

from domain.external_decisions import step_due
from domain.ledger import JournalEntry
from domain.loans import Loan
from domain.notifications import Notification
from domain.origination import LoanApplication
from domain.outbox import OutboxMessage
from domain.scoring.progress import (
    INITIATE_ACTOR,
    QUERY_ACTOR,
    ExternalScoring,
    ScoringStage,
    resume_stalled,
)
from domain.tables import utcnow
from tests.databases import assert_ledger_balances
from tests.integrations.scoring_world import ScoringWorld, scoring_world
from workers.scoring_actors import initiate_external_score, query_external_score

CUSTOMER = "234774784"


@pytest.fixture(scope="module")
def manual_server(database_url: str) -> Iterator[ScoringWorld]:
    """No embedded worker: the test delivers every job itself."""
    with scoring_world(database_url, EMBEDDED_WORKER=False) as world:
        yield world


@pytest.fixture
def manual(manual_server: ScoringWorld) -> Iterator[ScoringWorld]:
    manual_server.reset()
    yield manual_server
    assert_ledger_balances(manual_server.lendgraph.runtime.engine)


def _session(world: ScoringWorld) -> Session:
    return world.lendgraph.runtime.session_factory()


def _count(world: ScoringWorld, table: type, *where: object) -> int:
    with _session(world) as session:
        statement = select(func.count()).select_from(table)
        return int(session.exec(statement.where(*where)).one())


def _pending_application(world: ScoringWorld, key: str) -> int:
    world.subscribe(CUSTOMER, username="wanjiru", password="a long password")
    assert world.apply(CUSTOMER, "10000", key)["status"] == "PENDING"
    with _session(world) as session:
        found = session.exec(select(LoanApplication.id)).one()
        assert found is not None
        return int(found)


def _in_threads(times: int, job: object, *args: object) -> None:
    with ThreadPoolExecutor(times) as pool:
        for future in [pool.submit(job, *args) for _ in range(times)]:  # type: ignore[arg-type]
            future.result()


def test_redelivered_and_concurrent_scoring_jobs_decide_once(manual: ScoringWorld) -> None:
    application_id = _pending_application(manual, "redelivered-1")
    before = manual.engine_state()

    _in_threads(3, initiate_external_score, "message-initiate", application_id, 1)
    initiate_external_score("message-initiate", application_id, 1)  # redelivered, later
    _in_threads(4, query_external_score, "message-query", application_id, 2)
    query_external_score("message-query", application_id, 2)  # redelivered, later

    after = manual.engine_state()
    assert after["initiated"] - before["initiated"] == 1  # the engine scored once
    assert after["queried"] - before["queried"] == 1

    with _session(manual) as session:
        application = session.get(LoanApplication, application_id)
        assert application is not None and application.status.value == "APPROVED"
    assert _count(manual, Loan) == 1
    assert _count(manual, JournalEntry) == 1  # one disbursement
    assert _count(manual, Notification) == 1  # one "loan approved"
    loan_events = col(OutboxMessage.name) == "loanUpdated"
    assert _count(manual, OutboxMessage, loan_events) == 1


def test_duplicate_jobs_during_an_outage_reschedule_the_step_once(manual: ScoringWorld) -> None:
    application_id = _pending_application(manual, "redelivered-2")
    manual.control_engine(mode="down")
    initiate_jobs = col(OutboxMessage.name) == INITIATE_ACTOR
    before = _count(manual, OutboxMessage, initiate_jobs)

    _in_threads(3, initiate_external_score, "message-initiate", application_id, 1)

    assert _count(manual, OutboxMessage, initiate_jobs) == before + 1
    manual.control_engine(mode="ok")
    with _session(manual) as session:
        retry = session.exec(
            select(OutboxMessage).where(initiate_jobs).order_by(col(OutboxMessage.created_at))
        ).all()[-1]
        assert retry.deliver_at is not None  # held back by the outage backoff
    assert retry.payload == {"application_id": application_id, "step": 2}
    initiate_external_score(retry.id, application_id, 2)
    initiate_external_score("message-initiate", application_id, 1)  # the original, once more
    query_external_score("message-query", application_id, 3)
    query_jobs = col(OutboxMessage.name) == QUERY_ACTOR
    assert _count(manual, OutboxMessage, query_jobs) == 1
    assert _count(manual, Loan) == 1


def test_a_step_whose_worker_died_mid_call_is_resumed_once_its_lease_ends(
    manual: ScoringWorld,
) -> None:
    application_id = _pending_application(manual, "redelivered-4")
    policy = manual.lendgraph.runtime.settings.retry_policy()
    with _session(manual) as session:  # a worker claims the step, then dies
        assert step_due(
            session,
            application_id,
            stage=ScoringStage.INITIATE,
            step=1,
            policy=policy,
            now=utcnow(),
        )
        session.commit()
    initiate_external_score("message-initiate", application_id, 1)  # its copy waits
    with _session(manual) as session:
        assert session.get(ExternalScoring, application_id).token is None  # type: ignore[union-attr]
        assert resume_stalled(session, policy, utcnow()) == 0  # neither overdue nor free yet
        later = utcnow() + policy.stalled_after + policy.lease
        assert resume_stalled(session, policy, later) == 1
        assert resume_stalled(session, policy, later) == 0  # queued again once, not each tick
        session.commit()
    with _session(manual) as session:
        resumed = session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.name) == INITIATE_ACTOR)
            .order_by(col(OutboxMessage.created_at).desc())
        ).first()
        assert resumed is not None and resumed.payload["step"] == 1  # the same step
        session.exec(update(ExternalScoring).values(leased_until=utcnow() - timedelta(seconds=1)))
        session.commit()
    initiate_external_score(resumed.id, application_id, 1)
    query_external_score("message-query", application_id, 2)
    assert _count(manual, Loan) == 1


def test_a_stale_query_of_an_earlier_attempt_changes_nothing(manual: ScoringWorld) -> None:
    manual.control_engine(notReadyAttempts=1)
    application_id = _pending_application(manual, "redelivered-3")
    initiate_external_score("message-initiate", application_id, 1)
    query_external_score("message-query-1", application_id, 2)  # not ready: step 3 queued

    query_external_score("message-query-1-again", application_id, 2)  # the first query again

    with _session(manual) as session:
        application = session.get(LoanApplication, application_id)
        assert application is not None and application.status.value == "PENDING"
    query_external_score("message-query-2", application_id, 3)
    assert _count(manual, Loan) == 1
