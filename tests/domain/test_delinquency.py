"""Overdue installments and delinquency as of a business day (RULES.md §5), in memory."""

from datetime import date, timedelta

from domain.billing.delinquency import days_past_due, is_delinquent, overdue
from domain.origination import ScheduledDue
from domain.products import DelinquencyRule

START = date(2026, 11, 2)
RULE = DelinquencyRule.TWO_MISSED_IN_A_ROW


def weeks(paid: set[int], count: int = 5) -> list[ScheduledDue]:
    return [
        ScheduledDue(
            loan_id=1,
            number=n,
            due_date=START + timedelta(weeks=n),
            principal_minor=100,
            interest_minor=10,
            paid_principal_minor=100 if n in paid else 0,
            paid_interest_minor=10 if n in paid else 0,
        )
        for n in range(1, count + 1)
    ]


def test_week_three_with_only_week_one_paid_is_delinquent() -> None:
    week_3 = START + timedelta(weeks=3)
    assert is_delinquent(weeks({1}), RULE, week_3)
    assert not is_delinquent(weeks({1}), RULE, week_3 - timedelta(days=1))  # one missed so far
    assert not is_delinquent(weeks({1, 2}), RULE, week_3)  # the oldest paid: caught up


def test_missing_then_paying_the_latest_is_not_two_in_a_row() -> None:
    assert not is_delinquent(weeks({1, 3}), RULE, START + timedelta(weeks=3))


def test_a_product_without_a_rule_is_never_delinquent() -> None:
    assert not is_delinquent(weeks(set()), DelinquencyRule.NONE, START + timedelta(weeks=5))


def test_overdue_means_the_day_after_the_due_date_unpaid() -> None:
    week_2 = START + timedelta(weeks=2)
    assert [d.number for d in overdue(weeks({1}), week_2)] == []
    assert [d.number for d in overdue(weeks({1}), week_2 + timedelta(days=1))] == [2]
    assert days_past_due(weeks({1}), week_2 + timedelta(days=8)) == 8
    assert days_past_due(weeks({1, 2, 3, 4, 5}), START + timedelta(weeks=9)) == 0
