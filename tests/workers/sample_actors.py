"""A test-only actor, loaded by worker processes through ACTOR_MODULES in process tests."""

from typing import Any

import dramatiq

from workers.consuming import consume_once


@dramatiq.actor(actor_name="test_sample_job", queue_name="lendgraph_test_sample", max_retries=3)
def sample_job(message_id: str) -> None:
    consume_once("test_sample_job", message_id, lambda _session: None)


@dramatiq.actor(actor_name="test_touch_loan", queue_name="lendgraph_test_sample", max_retries=3)
def touch_loan(message_id: str, loan_id: int) -> None:
    """Raise a loanUpdated event from a worker process, as billing or scoring will."""
    from sqlmodel import select

    from domain.loan_events import LOAN_UPDATED, announce
    from domain.loans import Loan
    from domain.origination import schedules_of, still_owed
    from domain.tables import utcnow

    def work(session: Any) -> None:
        loan = session.exec(select(Loan).where(Loan.id == loan_id).with_for_update()).one()
        owed = still_owed(schedules_of(session, [loan_id])[loan_id], loan.currency)
        announce(session, loan, LOAN_UPDATED, at=utcnow(), outstanding=owed.total)

    consume_once("test_touch_loan", message_id, work)
