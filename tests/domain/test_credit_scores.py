"""Known answers from RULES.md §1 and §4, and the direction of every score component."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.customer_rules import approved_limit, monthly_from_annual
from domain.money import Money
from domain.schedules import add_months
from domain.scoring.loan_history import NEUTRAL_SCORE, LoanRecord, emis_due, loan_history_score
from domain.scoring.transactions import transaction_score

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("salary", "limit"),
    [("23000", "800000"), ("50000", "1800000"), ("55000", "2000000"), ("12500", "500000")],
)
def test_approved_limit_is_36_salaries_to_the_nearest_lakh(salary: str, limit: str) -> None:
    assert approved_limit(Money.of(salary, "INR")) == Money.of(limit, "INR")


def test_annual_income_becomes_monthly_at_full_precision() -> None:
    assert monthly_from_annual(Money.of("600000", "INR")) == Money.of("50000", "INR")
    assert monthly_from_annual(Money.of("100000", "INR")).rounded() == Money.of("8333.33", "INR")


def test_the_limit_from_an_annual_income_is_not_rounded_twice() -> None:
    # 149,999.99 a year is 12,499.9991... a month -> 449,999.97 -> 4 lakh; rounding the
    # monthly figure to paise first (12,500.00) would wrongly give 5 lakh.
    monthly = monthly_from_annual(Money.of("149999.99", "INR"))
    assert approved_limit(monthly) == Money.of("400000", "INR")


@pytest.mark.parametrize(
    ("balance", "score"),
    [
        ("568450", 670),
        ("100000", 300),
        ("100001", 360),
        ("999999", 900),
        ("1000000", 900),
        ("-5000", 300),
        ("0", 300),
        ("115000", 370),
    ],
)
def test_transaction_score_known_answers(balance: str, score: int) -> None:
    assert transaction_score(Decimal(balance)) == score


def loan(
    principal: int = 100_000,
    tenure: int = 12,
    on_time: int = 12,
    start: date = date(2020, 1, 1),
    end: date = date(2021, 1, 1),
) -> LoanRecord:
    return LoanRecord(Decimal(principal), tenure, on_time, start, end)


def test_no_history_is_the_documented_neutral_score() -> None:
    result = loan_history_score([], Decimal(1_000_000), TODAY)
    assert result.score == NEUTRAL_SCORE == 50


def test_current_loans_above_the_approved_limit_score_zero() -> None:
    current = loan(principal=900_000, start=date(2026, 1, 1), end=date(2027, 1, 1))
    assert loan_history_score([current], Decimal(800_000), TODAY).score == 0
    assert loan_history_score([current], Decimal(900_000), TODAY).score > 0


def test_a_perfect_long_record_scores_high() -> None:
    record = [loan(principal=400_000) for _ in range(5)] + [
        loan(start=date(2026, 2, 1), end=date(2026, 8, 1), tenure=6, on_time=6) for _ in range(2)
    ]
    assert loan_history_score(record, Decimal(2_000_000), TODAY).score == 100


loans_strategy = st.lists(
    st.builds(
        loan,
        principal=st.integers(1_000, 2_000_000),
        tenure=st.integers(1, 120),
        on_time=st.integers(0, 120),
        start=st.dates(date(2005, 1, 1), date(2026, 11, 1)),
        end=st.dates(date(2005, 1, 1), date(2036, 1, 1)),
    ),
    min_size=1,
    max_size=8,
)
limits = st.integers(0, 50_000_000).map(Decimal)


@given(loans_strategy, limits)
def test_score_stays_between_0_and_100(loans: list[LoanRecord], limit: Decimal) -> None:
    assert 0 <= loan_history_score(loans, limit, TODAY).score <= 100


@given(loans_strategy, limits, st.integers(0, 7))
def test_more_emis_paid_on_time_never_lowers_the_score(
    loans: list[LoanRecord], limit: Decimal, which: int
) -> None:
    index = which % len(loans)
    better = list(loans)
    old = loans[index]
    better[index] = LoanRecord(
        old.principal, old.tenure_months, old.emis_paid_on_time + 1, old.start_date, old.end_date
    )
    assert (
        loan_history_score(better, limit, TODAY).score
        >= loan_history_score(loans, limit, TODAY).score
    )


def _component(loans: list[LoanRecord], limit: Decimal, name: str) -> Decimal:
    result = loan_history_score(loans, limit, TODAY)
    return next(c.points for c in result.components if c.name == name)


@given(loans_strategy, limits)
def test_another_past_loan_never_lowers_experience_or_volume(
    loans: list[LoanRecord], limit: Decimal
) -> None:
    more = [*loans, loan(start=date(2010, 1, 1), end=date(2011, 1, 1))]
    for name in ("experience", "volume"):
        assert _component(more, limit, name) >= _component(loans, limit, name)


@given(loans_strategy, limits)
def test_a_loan_started_this_year_never_lowers_recent_activity(
    loans: list[LoanRecord], limit: Decimal
) -> None:
    more = [*loans, loan(start=date(TODAY.year, 1, 15), end=date(TODAY.year, 6, 15), tenure=5)]
    assert _component(more, limit, "recentActivity") >= _component(loans, limit, "recentActivity")


@given(loans_strategy, limits)
def test_components_never_exceed_their_weights(loans: list[LoanRecord], limit: Decimal) -> None:
    for component in loan_history_score(loans, limit, TODAY).components:
        assert Decimal(0) <= component.points <= component.max_points


@pytest.mark.parametrize(
    ("start", "tenure", "as_of", "due"),
    [
        (date(2021, 11, 15), 84, date(2026, 12, 4), 60),  # the 61st falls on 2026-12-15
        (date(2021, 11, 15), 84, date(2026, 12, 14), 60),
        (date(2021, 11, 15), 84, date(2026, 12, 15), 61),
        (date(2026, 1, 31), 12, date(2026, 2, 27), 0),
        (date(2026, 1, 31), 12, date(2026, 2, 28), 1),  # due on February's last day
        (date(2026, 1, 31), 12, date(2026, 3, 30), 1),
        (date(2026, 1, 31), 12, date(2026, 3, 31), 2),
        (date(2026, 5, 10), 12, date(2026, 5, 10), 0),  # approved today: nothing due yet
        (date(2026, 5, 10), 12, date(2026, 4, 1), 0),  # before the start
        (date(2020, 1, 1), 12, date(2026, 12, 4), 12),  # never more than the tenure
    ],
)
def test_emis_fall_due_by_day_not_by_calendar_month(
    start: date, tenure: int, as_of: date, due: int
) -> None:
    assert emis_due(loan(start=start, tenure=tenure), as_of) == due


@given(st.dates(date(2000, 1, 1), date(2030, 12, 31)), st.integers(1, 120), st.integers(-40, 3700))
def test_emis_due_are_the_schedule_due_dates_reached(start: date, tenure: int, days: int) -> None:
    as_of = start + timedelta(days=days)
    reached = sum(1 for k in range(1, tenure + 1) if add_months(start, k) <= as_of)
    assert emis_due(loan(start=start, tenure=tenure), as_of) == reached


def _repayment_explanation(on_time: int, as_of: date) -> str:
    record = loan(start=date(2021, 11, 15), end=date(2028, 11, 15), tenure=84, on_time=on_time)
    result = loan_history_score([record], Decimal(10_000_000), as_of)
    return next(c.explanation for c in result.components if c.name == "repayment")


def test_an_emi_due_later_this_month_is_not_counted_as_due_or_paid() -> None:
    # given a loan approved on 2021-11-15 whose file says 61 EMIs were paid on time
    # when it is scored on 2026-12-04, before the 61st EMI's due date (2026-12-15)
    explanation = _repayment_explanation(61, date(2026, 12, 4))
    # then only the 60 EMIs that have fallen due are counted
    assert explanation == "60 EMIs paid on time of 60 due"
    assert _repayment_explanation(61, date(2026, 12, 15)) == "61 EMIs paid on time of 61 due"


def test_a_missed_emi_counts_against_the_score_only_once_it_is_due() -> None:
    assert _repayment_explanation(60, date(2026, 12, 14)) == "60 EMIs paid on time of 60 due"
    assert _repayment_explanation(60, date(2026, 12, 15)) == "60 EMIs paid on time of 61 due"
