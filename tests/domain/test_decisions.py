"""A decision quotes an installment only when it approves (RULES.md §1 response shape)."""

from datetime import date
from decimal import Decimal

import pytest

from domain.decisions import Decision, Outcome
from domain.money import Money
from domain.schedules import emi_schedule

SCHEDULE = emi_schedule(Money.of("100000", "INR"), Decimal(10), 12, date(2026, 1, 15))


def test_an_approved_decision_quotes_the_first_emi_at_the_corrected_rate() -> None:
    decision = Decision(Outcome.APPROVED, Decimal(10), Decimal(10), 12, SCHEDULE)
    assert decision.installment == Money.of("8791.59", "INR")


@pytest.mark.parametrize("outcome", [Outcome.REJECTED, Outcome.PENDING])
def test_a_decision_that_does_not_approve_quotes_no_installment(outcome: Outcome) -> None:
    # given a request with a schedule; when it is refused or waits for a score
    decision = Decision(outcome, Decimal(10), Decimal(10), 12, SCHEDULE)
    # then no installment is quoted, though the schedule stays to explain the figures
    assert decision.installment is None
    assert decision.schedule[0].total == Money.of("8791.59", "INR")


def test_a_refusal_withdraws_the_installment_an_approval_would_quote() -> None:
    decision = Decision(Outcome.APPROVED, Decimal(10), Decimal(10), 12, SCHEDULE)
    decision.refuse("EMI_ABOVE_HALF_OF_SALARY", "too much")
    assert decision.installment is None
