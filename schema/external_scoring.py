"""How an externally scored application stands with the scoring engine (RULES.md §3)."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from domain.money import Money as DomainMoney
from domain.scoring.progress import ExternalScoring
from schema.scalars import Money


@strawberry.enum(description="Where the scoring of an application has got to.")
class ScoringStage(enum.Enum):
    INITIATE = strawberry.enum_value("INITIATE", description="The engine is yet to be asked.")
    QUERY = strawberry.enum_value("QUERY", description="Asked; waiting for the score.")
    DONE = strawberry.enum_value("DONE", description="Scored, or gave up (see the status).")


@strawberry.type(
    description="The external scoring engine's work on one application: progress while it "
    "is PENDING (a down engine keeps it waiting, never lost), then what the engine said."
)
class ExternalScore:
    stage: ScoringStage = strawberry.field(description="Where the scoring has got to.")
    attempts: int = strawberry.field(
        description="queryScore answers of 'not ready' so far (the budget is SCORING_ATTEMPTS)."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next call to the engine is due, while not DONE."
    )
    last_error: str | None = strawberry.field(
        description="STAFF only: why the last call did not get through (the engine down or "
        "slow), or 'core banking unavailable: ...' when the engine failed because Lendgraph "
        "could not read the customer's transactions from the core banking system for it; "
        "null for customers."
    )
    score: int | None = strawberry.field(description="The engine's score.")
    limit: Money | None = strawberry.field(description="The most the engine would lend.")
    exclusion: str | None = strawberry.field(
        description="The engine's exclusion ('No Exclusion' when none)."
    )
    exclusion_reason: str | None = strawberry.field(description="Why, in the engine's words.")

    @classmethod
    def from_model(cls, row: ExternalScoring, currency: str, staff: bool) -> ExternalScore:
        done = row.stage.value == "DONE"
        limit = (
            None if row.limit_minor is None else DomainMoney.from_minor(row.limit_minor, currency)
        )
        return cls(
            stage=ScoringStage(row.stage.value),
            attempts=row.queries,
            next_attempt_at=None if done else row.next_at,
            last_error=row.last_error if staff else None,
            score=row.score,
            limit=Money.from_domain(limit) if limit is not None else None,
            exclusion=row.exclusion,
            exclusion_reason=row.exclusion_reason,
        )
