"""Schedules: RULES.md worked numbers, and invariants for any amount, rate and term."""

from datetime import date, timedelta
from decimal import Decimal, getcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.money import Money
from domain.schedules import (
    add_months,
    daily_rate,
    emi,
    emi_schedule,
    flat_schedule,
    revolving_projection,
    single_payment_schedule,
)

START = date(2026, 1, 15)


def inr(amount: str) -> Money:
    return Money.of(amount, "INR")


@pytest.mark.parametrize(
    ("principal", "rate", "months", "expected"),
    [
        ("100000", "10", 12, "8791.59"),
        ("120030", "8.12", 12, "10447.88"),
        ("120030", "12", 12, "10664.52"),
        ("120030", "16", 12, "10890.42"),
    ],
)
def test_emi_known_answers(principal: str, rate: str, months: int, expected: str) -> None:
    assert emi(inr(principal), Decimal(rate), months) == inr(expected)


def test_emi_schedule_splits_interest_first_and_the_last_installment_absorbs_rounding() -> None:
    rows = emi_schedule(inr("100000"), Decimal(10), 12, START)
    assert rows[0].interest == inr("833.33") and rows[0].principal == inr("7958.26")
    assert all(r.total == inr("8791.59") for r in rows[:-1])
    assert sum((r.principal for r in rows), inr("0")) == inr("100000")
    assert [r.due_date for r in rows[:2]] == [date(2026, 2, 15), date(2026, 3, 15)]


def test_monthly_due_dates_keep_the_day_or_the_months_last_day() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 31), 2) == date(2026, 3, 31)
    assert add_months(date(2024, 1, 30), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_weekly_flat_loan_of_rules_section_5() -> None:
    rows = flat_schedule(Money.of("5000000", "IDR"), Decimal(10), 50, START)
    assert len(rows) == 50 and all(r.total == Money.of("110000", "IDR") for r in rows)
    assert sum((r.total for r in rows), Money.zero("IDR")) == Money.of("5500000", "IDR")
    assert rows[1].due_date - rows[0].due_date == timedelta(weeks=1)


def test_flat_remainder_goes_to_the_last_installment() -> None:
    rows = flat_schedule(inr("1000"), Decimal(10), 3, START)
    assert [r.total for r in rows] == [inr("366.67"), inr("366.67"), inr("366.66")]
    assert sum((r.principal for r in rows), inr("0")) == inr("1000")


def test_provider_loan_is_due_once_with_flat_interest() -> None:
    [due] = single_payment_schedule(inr("1000"), Decimal(5), 365, START)
    assert (due.total, due.due_date) == (inr("1050"), START + timedelta(days=365))


@pytest.mark.parametrize(
    ("principal", "apr", "daily", "interest", "minimum"),
    [
        ("5000", "12.5", "0.034", "51.00", "201.00"),
        ("5000", "12", "0.033", "49.50", "199.50"),
        ("50000", "10.5", "0.029", "435.00", "1935.00"),
    ],
)
def test_credit_card_first_bill_known_answers(
    principal: str, apr: str, daily: str, interest: str, minimum: str
) -> None:
    assert daily_rate(Decimal(apr)) == Decimal(daily)
    first = revolving_projection(inr(principal), Decimal(apr), 12, START)[0]
    assert (first.interest, first.total) == (inr(interest), inr(minimum))
    assert first.due_date == START + timedelta(days=45)


def test_credit_card_projection_lowers_principal_by_each_minimum_and_clears_at_the_end() -> None:
    bills = revolving_projection(inr("5000"), Decimal("12.5"), 12, START)
    assert bills[1].principal == inr("145.50")  # 3 % of 4,850
    assert bills[1].interest == inr("50.24")  # 15 days on 5,000 and 15 on 4,850
    assert sum((b.principal for b in bills), inr("0")) == inr("5000")


amounts = st.integers(100_00, 10_000_000_00).map(lambda cents: Money.from_minor(cents, "INR"))
rates = st.integers(0, 3600).map(lambda bp: Decimal(bp) / 100)


@settings(max_examples=150)
@given(amounts, rates, st.integers(1, 120))
def test_emi_principal_sums_exactly_and_nothing_is_negative(
    principal: Money, rate: Decimal, months: int
) -> None:
    rows = emi_schedule(principal, rate, months, START)
    assert sum((r.principal for r in rows), inr("0")) == principal
    assert all(not r.principal.is_negative() and not r.interest.is_negative() for r in rows)


@settings(max_examples=150)
@given(amounts, rates.filter(lambda r: r > 0), st.integers(1, 120))
def test_emi_is_within_one_minor_unit_of_the_closed_form(
    principal: Money, rate: Decimal, months: int
) -> None:
    getcontext().prec = 60
    r = rate / 1200
    exact = principal.amount * r * (1 + r) ** months / ((1 + r) ** months - 1)
    getcontext().prec = 28
    assert abs(emi(principal, rate, months).amount - exact) <= Decimal("0.01")


@given(amounts, rates, st.integers(1, 104))
def test_flat_totals_are_exact(principal: Money, rate: Decimal, weeks: int) -> None:
    rows = flat_schedule(principal, rate, weeks, START)
    assert sum((r.principal for r in rows), inr("0")) == principal
    total = (principal * (1 + rate / 100)).rounded()
    assert sum((r.total for r in rows), inr("0")) == total
    assert all(
        (not r.interest.is_negative() and r.principal.is_positive()) or r.principal.is_zero()
        for r in rows
    )


@settings(max_examples=60)
@given(
    st.integers(1_000_00, 5_000_000_00).map(lambda c: Money.from_minor(c, "INR")),
    st.integers(1200, 3600).map(lambda bp: Decimal(bp) / 100),
    st.integers(1, 36),
)
def test_revolving_bills_principal_exactly_and_never_negative(
    principal: Money, apr: Decimal, cycles: int
) -> None:
    bills = revolving_projection(principal, apr, cycles, START)
    assert sum((b.principal for b in bills), inr("0")) == principal
    assert all(not b.principal.is_negative() and b.interest.is_positive() for b in bills)
