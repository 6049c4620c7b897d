"""The loan-history score, 0–100 (RULES.md §1), from four documented components.

Weights (points out of 100):
- repayment (40): share of EMIs fallen due by the scoring date (counted by day) that were
  paid on time (1.0 for no EMIs due yet);
- experience (20): loans taken, 4 points each up to 5 loans — a longer record earns trust;
- recent activity (10): loans started this calendar year, 5 points each up to 2;
- volume (30): total principal ever approved relative to the approved limit, capped at 1.
A customer whose current (not yet ended) loans exceed the approved limit scores 0.
A customer with no loans at all gets the neutral score 50: approved, but at a corrected
rate of at least 12 % (the 30–50 slab) until they build a history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from domain.schedules import monthly_dues_reached

NEUTRAL_SCORE = 50
REPAYMENT, EXPERIENCE, ACTIVITY, VOLUME = 40, 20, 10, 30
POINTS_PER_LOAN, LOANS_FOR_FULL_EXPERIENCE = 4, 5
POINTS_PER_RECENT_LOAN, RECENT_LOANS_FOR_FULL_ACTIVITY = 5, 2


@dataclass(frozen=True)
class LoanRecord:
    """What the score needs to know of one loan."""

    principal: Decimal
    tenure_months: int
    emis_paid_on_time: int
    start_date: date
    end_date: date
    closed: bool = False  # paid off (or never lent): not current debt, whatever the end date

    def is_current(self, today: date) -> bool:
        return not self.closed and self.end_date >= today


@dataclass(frozen=True)
class Component:
    name: str
    points: Decimal
    max_points: int
    explanation: str


@dataclass(frozen=True)
class LoanHistoryScore:
    score: int
    components: tuple[Component, ...]
    current_debt: Decimal
    approved_limit: Decimal
    reason: str


def emis_due(loan: LoanRecord, today: date) -> int:
    """EMIs fallen due by `today`, counted by day on the schedule's monthly due dates: on
    2026-12-04 the EMI due on 2026-12-15 is not due yet."""
    return monthly_dues_reached(loan.start_date, loan.tenure_months, today)


def _repayment(loans: Sequence[LoanRecord], today: date) -> Component:
    due = sum(emis_due(loan, today) for loan in loans)
    # Per loan at most the EMIs due so far: extra on one loan never hides misses on another.
    on_time = sum(min(loan.emis_paid_on_time, emis_due(loan, today)) for loan in loans)
    ratio = Decimal(1) if due == 0 else min(Decimal(1), Decimal(on_time) / due)
    return Component(
        "repayment", REPAYMENT * ratio, REPAYMENT, f"{on_time} EMIs paid on time of {due} due"
    )


def _experience(loans: Sequence[LoanRecord]) -> Component:
    counted = min(len(loans), LOANS_FOR_FULL_EXPERIENCE)
    return Component(
        "experience", Decimal(POINTS_PER_LOAN * counted), EXPERIENCE, f"{len(loans)} loans taken"
    )


def _activity(loans: Sequence[LoanRecord], today: date) -> Component:
    recent = sum(1 for loan in loans if loan.start_date.year == today.year)
    counted = min(recent, RECENT_LOANS_FOR_FULL_ACTIVITY)
    return Component(
        "recentActivity",
        Decimal(POINTS_PER_RECENT_LOAN * counted),
        ACTIVITY,
        f"{recent} loans started in {today.year}",
    )


def _volume(loans: Sequence[LoanRecord], approved_limit: Decimal) -> Component:
    total = sum((loan.principal for loan in loans), Decimal(0))
    ratio = Decimal(1) if approved_limit <= 0 else min(Decimal(1), total / approved_limit)
    return Component(
        "volume",
        VOLUME * ratio,
        VOLUME,
        f"{total} approved in all against a limit of {approved_limit}",
    )


def loan_history_score(
    loans: Sequence[LoanRecord], approved_limit: Decimal, today: date
) -> LoanHistoryScore:
    current = sum((loan.principal for loan in loans if loan.is_current(today)), Decimal(0))
    if not loans:
        return LoanHistoryScore(
            NEUTRAL_SCORE, (), current, approved_limit, "no loan history: neutral score"
        )
    components = (
        _repayment(loans, today),
        _experience(loans),
        _activity(loans, today),
        _volume(loans, approved_limit),
    )
    if current > approved_limit:
        return LoanHistoryScore(
            0, components, current, approved_limit, "current loans exceed the approved limit"
        )
    total = sum((c.points for c in components), Decimal(0))
    score = int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return LoanHistoryScore(score, components, current, approved_limit, "weighted components")
