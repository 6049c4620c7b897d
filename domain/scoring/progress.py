"""Where an externally scored application stands with the scoring engine (RULES.md §3):
initiate, then query with bounded retries and exponential backoff, until a score decides it.
Outages of the engine never count against the retry budget; the request waits for it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, or_, select, update

from domain.outbox import emit_job
from domain.tables import timestamp_column

INITIATE_ACTOR = "initiate_external_score"
QUERY_ACTOR = "query_external_score"


class ScoringStage(enum.StrEnum):
    INITIATE = "INITIATE"  # the engine has not been asked yet
    QUERY = "QUERY"  # asked; waiting for the score
    DONE = "DONE"  # decided, or retries exhausted


class ExternalScoring(SQLModel, table=True):
    """One per externally scored application: progress with the engine and what it said."""

    __tablename__ = "external_scorings"
    __table_args__ = (sa.Index("ix_external_scorings_due", "stage", "next_at"),)

    application_id: int = Field(foreign_key="loan_applications.id", primary_key=True)
    customer_number: str = Field(max_length=32)
    stage: ScoringStage = Field(
        sa_type=sa.Enum(ScoringStage, name="scoring_stage", native_enum=False, length=16)
    )
    token: str | None = Field(default=None, max_length=500)
    # Raised each time a step is queued; a job runs only for the step it was queued for,
    # so duplicates, redeliveries and superseded jobs change nothing.
    step: int = 0
    # While a worker talks to the engine for this step, no other copy of its job may.
    leased_until: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    queries: int = 0  # queryScore answers of "not ready" so far
    outages: int = 0  # failures to reach the engine since the last answer
    next_at: datetime = Field(sa_column=timestamp_column())
    last_error: str | None = Field(default=None, max_length=500)
    # When the engine last came to read the customer's transactions and Lendgraph could not
    # give them (its core banking lookup failed), and why: an outage the engine reports then
    # is blamed on the core banking system, not on the engine.
    transactions_failed_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True)
    )
    transactions_failure: str | None = Field(default=None, max_length=500)
    score: int | None = None
    limit_minor: int | None = Field(default=None, sa_type=sa.BigInteger)
    exclusion: str | None = Field(default=None, max_length=200)
    exclusion_reason: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(sa_column=timestamp_column())


@dataclass(frozen=True)
class RetryPolicy:
    """RULES.md §3 defaults: 5 queries, 1, 2, 4, 8, 16 s apart; outages back off to a cap."""

    attempts: int = 5
    base: timedelta = timedelta(seconds=1)
    outage_cap: timedelta = timedelta(seconds=60)
    stalled_after: timedelta = timedelta(seconds=120)
    lease: timedelta = timedelta(seconds=35)  # longer than one call to the engine may take

    def before_query(self, attempt: int) -> timedelta:
        return self.base * int(2 ** (attempt - 1))

    def after_outage(self, outages: int) -> timedelta:
        return min(self.base * int(2 ** min(outages, 20)), self.outage_cap)


def schedule_step(session: Session, scoring: ExternalScoring, at: datetime) -> None:
    """Move on to the scoring's next step and queue its job, to run at `at`."""
    scoring.next_at = at
    scoring.step += 1
    scoring.leased_until = None
    session.add(scoring)
    _queue(session, scoring, at)


def _queue(session: Session, scoring: ExternalScoring, at: datetime) -> None:
    if scoring.stage is ScoringStage.DONE:
        return
    actor = INITIATE_ACTOR if scoring.stage is ScoringStage.INITIATE else QUERY_ACTOR
    emit_job(
        session, actor, deliver_at=at, application_id=scoring.application_id, step=scoring.step
    )


def claim_step(
    session: Session,
    application_id: int,
    *,
    stage: ScoringStage,
    step: int,
    now: datetime,
    lease: timedelta,
) -> ExternalScoring | None:
    """Take the step for one worker (until `now + lease`), if it is still the scoring's
    current step and nobody holds it; None for a stale or duplicate job."""
    claimed = session.exec(
        update(ExternalScoring)
        .where(
            col(ExternalScoring.application_id) == application_id,
            col(ExternalScoring.stage) == stage,
            col(ExternalScoring.step) == step,
            or_(
                col(ExternalScoring.leased_until).is_(None),
                col(ExternalScoring.leased_until) < now,
            ),
        )
        .values(leased_until=now + lease)
    )
    if not claimed.rowcount:
        return None
    return session.get(ExternalScoring, application_id, populate_existing=True)


def start_external_scoring(
    session: Session, application_id: int, customer_number: str, now: datetime
) -> ExternalScoring:
    """Called in the transaction that stores the PENDING application: the engine is asked
    only after it commits (outbox), so a rolled-back request is never scored."""
    scoring = ExternalScoring(
        application_id=application_id,
        customer_number=customer_number,
        stage=ScoringStage.INITIATE,
        next_at=now,
        updated_at=now,
    )
    schedule_step(session, scoring, now)
    return scoring


def scorings_of(session: Session, application_ids: list[int]) -> dict[int, ExternalScoring]:
    if not application_ids:
        return {}
    rows = session.exec(
        select(ExternalScoring).where(col(ExternalScoring.application_id).in_(application_ids))
    )
    return {row.application_id: row for row in rows}


def resume_stalled(session: Session, policy: RetryPolicy, now: datetime, limit: int = 500) -> int:
    """Queue again, for the same step, every scoring overdue by `stalled_after` that no
    worker holds (its message was lost, or its worker died mid-call). A copy of a job that
    is only slow is harmless: whichever claims the step first takes it."""
    rows = session.exec(
        select(ExternalScoring)
        .where(
            col(ExternalScoring.stage) != ScoringStage.DONE,
            col(ExternalScoring.next_at) < now - policy.stalled_after,
            or_(
                col(ExternalScoring.leased_until).is_(None),
                col(ExternalScoring.leased_until) < now,
            ),
        )
        .order_by(col(ExternalScoring.next_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for scoring in rows:
        scoring.next_at = now
        session.add(scoring)
        _queue(session, scoring, now)
    return len(rows)
