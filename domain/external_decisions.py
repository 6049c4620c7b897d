"""Deciding externally scored applications (RULES.md §3) one step at a time. Each step is
applied under a lock on the scoring row and only if the scoring is still where the step
expects it, so a redelivered or duplicated message never double-scores or double-approves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select, update

from domain.application_events import announce_application
from domain.customers import Customer
from domain.decisions import Decision, Outcome, schedule_for
from domain.money import Money
from domain.origination import ApplicationStatus, LoanApplication, book_approval, tell_decision
from domain.products import LoanProduct
from domain.scoring.external import (
    NO_EXCLUSION,
    ScoreReport,
    ScoringClientRejected,
    ScoringEngineUnavailable,
)
from domain.scoring.progress import (
    ExternalScoring,
    RetryPolicy,
    ScoringStage,
    claim_step,
    schedule_step,
)


@dataclass(frozen=True)
class ScoringStep:
    """A snapshot of a scoring as a worker saw it before calling the engine."""

    application_id: int
    customer_number: str
    stage: ScoringStage
    step: int
    token: str | None
    queries: int

    @classmethod
    def of(cls, row: ExternalScoring) -> ScoringStep:
        return cls(
            row.application_id, row.customer_number, row.stage, row.step, row.token, row.queries
        )


def step_due(
    session: Session,
    application_id: int,
    *,
    stage: ScoringStage,
    step: int,
    policy: RetryPolicy,
    now: datetime,
) -> ScoringStep | None:
    """Claim the step for this worker: None if the job is stale (the scoring moved on) or
    another copy of it is already talking to the engine."""
    row = claim_step(session, application_id, stage=stage, step=step, now=now, lease=policy.lease)
    return ScoringStep.of(row) if row is not None else None


def _still(session: Session, step: ScoringStep) -> ExternalScoring | None:
    """Lock the scoring; None if another worker moved it on since `step` was read."""
    row = session.exec(
        select(ExternalScoring)
        .where(ExternalScoring.application_id == step.application_id)
        .with_for_update()
    ).one_or_none()
    if row is None or ScoringStep.of(row) != step:
        return None
    return row


def record_outage(
    session: Session,
    step: ScoringStep,
    failure: ScoringEngineUnavailable | ScoringClientRejected,
    policy: RetryPolicy,
    now: datetime,
    *,
    asked_at: datetime | None = None,
) -> None:
    """The engine could not be reached: try the same step again later, budget untouched.
    `asked_at`: when the engine was asked (its failure may have been ours, see below)."""
    row = _still(session, step)
    if row is None:
        return
    row.outages += 1
    row.last_error = _what_failed(row, failure, asked_at)[:500]
    row.updated_at = now
    schedule_step(session, row, now + policy.after_outage(row.outages))


def note_transactions_unavailable(
    session: Session, customer_number: str, detail: str, now: datetime
) -> int:
    """The engine came to read this customer's transactions and Lendgraph could not read
    them from the core banking system: noted on the customer's scorings under way, so the
    engine's failure that follows is blamed on the system that failed. Returns how many."""
    noted = session.exec(
        update(ExternalScoring)
        .where(
            col(ExternalScoring.customer_number) == customer_number,
            col(ExternalScoring.stage) != ScoringStage.DONE,
        )
        .values(transactions_failed_at=now, transactions_failure=detail[:300])
    )
    return int(noted.rowcount or 0)


def _what_failed(
    row: ExternalScoring,
    failure: ScoringEngineUnavailable | ScoringClientRejected,
    asked_at: datetime | None,
) -> str:
    """Why a step did not get through: the engine's failure as we saw it, unless Lendgraph's
    own core banking lookup failed while the engine was asking (the engine reads the
    customer's transactions back from Lendgraph), which is then named as the cause."""
    failed_at = row.transactions_failed_at
    if asked_at is None or failed_at is None or failed_at < asked_at:
        return failure.message
    answered = failure.detail if isinstance(failure, ScoringEngineUnavailable) else failure.message
    return (
        f"core banking unavailable: {row.transactions_failure}. While Lendgraph asked the "
        "scoring engine, the engine came to read the customer's transactions and Lendgraph "
        f"could not read them from the core banking system; the engine then answered: {answered}"
    )


def record_token(
    session: Session, step: ScoringStep, token: str, policy: RetryPolicy, now: datetime
) -> None:
    row = _still(session, step)
    if row is None:
        return
    row.token, row.stage, row.outages, row.last_error = token, ScoringStage.QUERY, 0, None
    row.updated_at = now
    schedule_step(session, row, now + policy.before_query(1))


def record_not_ready(
    session: Session,
    step: ScoringStep,
    policy: RetryPolicy,
    now: datetime,
    note: str | None = None,
) -> None:
    """One more "not ready": query again after the next backoff, or give up (FAILED)."""
    row = _still(session, step)
    if row is None:
        return
    row.queries += 1
    row.outages, row.last_error, row.updated_at = 0, note, now
    if row.queries < policy.attempts:
        schedule_step(session, row, now + policy.before_query(row.queries + 1))
        return
    row.stage = ScoringStage.DONE
    session.add(row)
    application = _pending_application(session, row.application_id)
    if application is not None:
        application.status = ApplicationStatus.FAILED
        application.decided_at = now
        application.reasons = [
            {
                "code": "NO_SCORE_IN_TIME",
                "message": f"The scoring engine gave no score after {row.queries} tries; "
                "the customer may apply again.",
            }
        ]
        _conclude(session, application, now)


def record_answer(
    session: Session,
    step: ScoringStep,
    report: ScoreReport | None,
    policy: RetryPolicy,
    now: datetime,
) -> None:
    """What queryScore said: a score decides, "not ready" (None) waits or gives up. A score
    for another customer is no answer for this one (it counts as a try)."""
    if report is not None and report.customer_number != step.customer_number:
        note = f"the engine answered with a score for customer {report.customer_number}"
        record_not_ready(session, step, policy, now, note[:500])
    elif report is None:
        record_not_ready(session, step, policy, now)
    else:
        record_score(session, step, report, now)


def record_score(session: Session, step: ScoringStep, report: ScoreReport, now: datetime) -> None:
    """Store what the engine said and decide: approve when there is no exclusion and the
    amount is within the limit, else reject with every reason (RULES.md §3)."""
    row = _still(session, step)
    if row is None:
        return
    application = _pending_application(session, row.application_id)
    row.stage, row.score, row.updated_at = ScoringStage.DONE, report.score, now
    row.exclusion, row.exclusion_reason = report.exclusion, report.exclusion_reason
    row.outages, row.last_error = 0, None
    if application is None:
        session.add(row)
        return
    limit = Money(report.limit_amount, application.currency).rounded()
    row.limit_minor = limit.to_minor()
    session.add(row)
    _decide(session, application, report, limit, now)


def _decide(
    session: Session,
    application: LoanApplication,
    report: ScoreReport,
    limit: Money,
    now: datetime,
) -> None:
    reasons = []
    if report.exclusion != NO_EXCLUSION:
        reasons.append(
            {
                "code": "EXCLUDED_BY_SCORING_ENGINE",
                "message": f"The scoring engine excluded the customer: "
                f"{report.exclusion_reason or report.exclusion}.",
            }
        )
    if application.amount > limit:
        reasons.append(
            {
                "code": "ABOVE_SCORE_LIMIT",
                "message": f"{application.amount} is above the limit of {limit} "
                "the scoring engine set.",
            }
        )
    application.credit_score = report.score
    application.decided_at = now
    if reasons:
        application.status, application.reasons = ApplicationStatus.REJECTED, reasons
    else:
        application.status = ApplicationStatus.APPROVED
        application.reasons = [
            {
                "code": "EXTERNAL_SCORE",
                "message": f"Score {report.score}, limit {limit}, no exclusion.",
            }
        ]
        _approve(session, application, now)
    _conclude(session, application, now)


def _approve(session: Session, application: LoanApplication, now: datetime) -> None:
    """Make the loan, paid out on the day it is decided (never before it was asked)."""
    product = session.get(LoanProduct, application.product_id)
    assert product is not None
    application.disbursement_date = max(application.disbursement_date, now.date())
    rate, tenure = application.interest_rate, application.tenure
    decision = Decision(Outcome.APPROVED, rate, rate, tenure)
    decision.schedule = schedule_for(
        product, application.amount, rate, tenure, application.disbursement_date
    )
    book_approval(session, product, application, decision)


def _pending_application(session: Session, application_id: int) -> LoanApplication | None:
    application = session.exec(
        select(LoanApplication).where(LoanApplication.id == application_id).with_for_update()
    ).one_or_none()
    if application is None or application.status is not ApplicationStatus.PENDING:
        return None
    return application


def _conclude(session: Session, application: LoanApplication, now: datetime) -> None:
    session.add(application)
    session.flush()
    customer = session.get(Customer, application.customer_id)
    product = session.get(LoanProduct, application.product_id)
    assert customer is not None and product is not None
    tell_decision(session, customer, product, application, now)
    announce_application(session, application, product.code, now)
