"""Deciding externally scored applications step by step (RULES.md §3), in the domain."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from domain.applications import LoanAsk
from domain.external_decisions import (
    ScoringStep,
    note_transactions_unavailable,
    record_answer,
    record_outage,
    record_token,
    step_due,
)
from domain.idempotency import SYSTEM_REQUESTER
from domain.origination import ApplicationStatus, LoanApplication, apply_for_loan
from domain.scoring.external import ScoreReport, ScoringEngineUnavailable
from domain.scoring.progress import ExternalScoring, RetryPolicy, ScoringStage
from tests.domain.test_origination import customer

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
POLICY = RetryPolicy()
NUMBER = "234774784"


def test_queries_back_off_one_two_four_eight_sixteen_seconds() -> None:
    waits = [POLICY.before_query(attempt).total_seconds() for attempt in range(1, 6)]
    assert waits == [1, 2, 4, 8, 16]
    assert POLICY.after_outage(1) == timedelta(seconds=2)
    assert POLICY.after_outage(30) == POLICY.outage_cap


def _querying(session: Session, amount: str = "10000") -> tuple[LoanApplication, ScoringStep]:
    asha = customer(session)
    asha.customer_number = NUMBER
    application = apply_for_loan(
        session,
        asha,
        LoanAsk("SCORED_MICRO", Decimal(amount), None, 30),
        "key-scored-1",
        NOW,
        requested_by=SYSTEM_REQUESTER,
    )
    assert application.id is not None
    initiate = step_due(
        session, application.id, stage=ScoringStage.INITIATE, step=1, policy=POLICY, now=NOW
    )
    assert initiate is not None
    record_token(session, initiate, "score-token", POLICY, NOW)
    query = step_due(
        session, application.id, stage=ScoringStage.QUERY, step=2, policy=POLICY, now=NOW
    )
    assert query is not None and query.token == "score-token"
    return application, query


def _report(number: str = NUMBER, limit: str = "30000", exclusion: str = "No Exclusion") -> Any:
    return ScoreReport(number, 564, Decimal(limit), exclusion, exclusion)


def test_a_score_within_the_limit_without_exclusion_approves(session: Session) -> None:
    application, query = _querying(session)

    record_answer(session, query, _report(), POLICY, NOW)

    assert application.status is ApplicationStatus.APPROVED
    assert application.loan_id is not None and application.credit_score == 564


def test_the_limit_itself_is_within_the_limit(session: Session) -> None:
    application, query = _querying(session, amount="30000")
    record_answer(session, query, _report(limit="30000"), POLICY, NOW)
    assert application.status is ApplicationStatus.APPROVED


def test_exclusion_and_limit_are_both_given_as_reasons(session: Session) -> None:
    application, query = _querying(session, amount="30000.01")

    record_answer(session, query, _report(exclusion="Fraud"), POLICY, NOW)

    assert application.status is ApplicationStatus.REJECTED
    codes = [reason["code"] for reason in application.reasons]
    assert codes == ["EXCLUDED_BY_SCORING_ENGINE", "ABOVE_SCORE_LIMIT"]
    assert application.loan_id is None


def test_a_score_for_another_customer_counts_as_a_try(session: Session) -> None:
    application, query = _querying(session)

    record_answer(session, query, _report(number="318411216"), POLICY, NOW)

    scoring = session.get(ExternalScoring, application.id)
    assert application.status is ApplicationStatus.PENDING
    assert scoring is not None and scoring.queries == 1
    assert "318411216" in (scoring.last_error or "")


def test_a_step_recorded_twice_decides_once(session: Session) -> None:
    application, query = _querying(session)
    record_answer(session, query, _report(), POLICY, NOW)
    loan = application.loan_id

    record_answer(session, query, _report(limit="1"), POLICY, NOW)

    assert application.status is ApplicationStatus.APPROVED and application.loan_id == loan


def _initiating(session: Session) -> tuple[LoanApplication, ScoringStep]:
    asha = customer(session)
    asha.customer_number = NUMBER
    application = apply_for_loan(
        session,
        asha,
        LoanAsk("SCORED_MICRO", Decimal("1000"), None, 30),
        "key-scored-2",
        NOW,
        requested_by=SYSTEM_REQUESTER,
    )
    assert application.id is not None
    initiate = step_due(
        session, application.id, stage=ScoringStage.INITIATE, step=1, policy=POLICY, now=NOW
    )
    assert initiate is not None
    return application, initiate


def test_an_engine_failure_while_our_core_banking_lookup_failed_blames_core_banking(
    session: Session,
) -> None:
    application, initiate = _initiating(session)
    asked_at = NOW + timedelta(seconds=1)
    # The engine, being asked, reads the customer's transactions from Lendgraph; the CBS is down.
    noted = note_transactions_unavailable(session, NUMBER, "HTTP 503", asked_at)

    engine_failed = ScoringEngineUnavailable("initiateQueryScore answered HTTP 502")
    record_outage(session, initiate, engine_failed, POLICY, NOW, asked_at=asked_at)

    scoring = session.get(ExternalScoring, application.id)
    assert noted == 1 and scoring is not None
    assert (scoring.last_error or "").startswith("core banking unavailable: HTTP 503.")
    assert (scoring.last_error or "").endswith(
        "the engine then answered: initiateQueryScore answered HTTP 502"
    )
    assert scoring.outages == 1 and scoring.stage is ScoringStage.INITIATE


def test_a_core_banking_failure_before_the_engine_was_asked_is_not_blamed(
    session: Session,
) -> None:
    application, initiate = _initiating(session)
    note_transactions_unavailable(session, NUMBER, "HTTP 503", NOW)

    later = NOW + timedelta(seconds=5)
    timed_out = ScoringEngineUnavailable("initiateQueryScore timed out")
    record_outage(session, initiate, timed_out, POLICY, later, asked_at=later)

    scoring = session.get(ExternalScoring, application.id)
    assert scoring is not None
    assert scoring.last_error == timed_out.message  # the engine's own failure
