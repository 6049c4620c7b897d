"""How an imported historic loan stands as the business date moves (RULES.md §1 import).

Only time moves an imported loan: it runs until its End Date and is over from that day on.
Its repayments left are the monthly due dates after approval still to come, the last on the
End Date, and are 0 exactly when it is over.
"""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.loans import (
    Loan,
    LoanOrigin,
    LoanStatus,
    imported_repayments_left,
    imported_status,
    status_on,
)


def imported(start: date, end: date, tenure: int, emis_paid: int = 0) -> Loan:
    return Loan(
        number=5607,
        customer_id=2,
        principal_minor=10_000_000,
        interest_rate=12,
        tenure=tenure,
        installment_minor=100_000,
        emis_paid_on_time=emis_paid,
        start_date=start,
        end_date=end,
        status=LoanStatus.ACTIVE,  # as it stood on the day it was imported
        origin=LoanOrigin.IMPORTED,
    )


def test_a_loan_whose_end_date_has_passed_is_paid_with_no_repayments_left() -> None:
    # like loan 5607 of the bank's file: ended, 17 EMIs of its tenure not paid on time
    loan = imported(date(2014, 3, 1), date(2021, 6, 1), tenure=87, emis_paid=70)
    today = date(2026, 1, 1)
    assert (status_on(loan, today), imported_repayments_left(loan, today)) == (
        LoanStatus.PAID,
        0,
    )


def test_a_loan_is_over_on_its_end_date_itself() -> None:
    loan = imported(date(2025, 1, 15), date(2026, 1, 15), tenure=12)
    assert status_on(loan, date(2026, 1, 14)) is LoanStatus.ACTIVE
    assert imported_repayments_left(loan, date(2026, 1, 14)) == 1
    assert status_on(loan, date(2026, 1, 15)) is LoanStatus.PAID
    assert imported_repayments_left(loan, date(2026, 1, 15)) == 0


def test_a_running_loan_counts_the_monthly_due_dates_still_to_come() -> None:
    loan = imported(date(2025, 1, 15), date(2026, 1, 15), tenure=12, emis_paid=2)
    # due 15 Feb 2025 ... 15 Jan 2026; one falling due on the business date is no longer to come
    assert imported_repayments_left(loan, date(2025, 6, 14)) == 8
    assert imported_repayments_left(loan, date(2025, 6, 15)) == 7
    assert imported_repayments_left(loan, date(2025, 1, 15)) == 12
    assert imported_repayments_left(loan, date(2024, 12, 1)) == 12  # not yet started


def test_month_ends_fall_on_the_last_day_of_shorter_months() -> None:
    loan = imported(date(2025, 1, 31), date(2025, 4, 30), tenure=3)
    assert imported_repayments_left(loan, date(2025, 2, 27)) == 3  # 28 Feb, 31 Mar, 30 Apr
    assert imported_repayments_left(loan, date(2025, 2, 28)) == 2


def test_the_end_date_is_the_last_due_when_the_file_disagrees_with_the_tenure() -> None:
    shorter = imported(date(2020, 1, 10), date(2021, 1, 10), tenure=60)
    assert imported_repayments_left(shorter, date(2020, 10, 20)) == 3  # 10 Nov, 10 Dec, 10 Jan
    longer = imported(date(2020, 1, 10), date(2027, 1, 10), tenure=12)
    assert imported_repayments_left(longer, date(2025, 1, 1)) == 1  # only the End Date is left


def test_the_stored_status_of_the_import_day_does_not_decide() -> None:
    loan = imported(date(2024, 1, 1), date(2025, 1, 1), tenure=12)
    loan.status = LoanStatus.PAID  # imported after it ended; the business date was set back
    assert status_on(loan, date(2024, 6, 1)) is LoanStatus.ACTIVE
    assert imported_repayments_left(loan, date(2024, 6, 1)) == 7


def test_an_imported_loan_ending_on_the_business_date_is_no_current_debt() -> None:
    loan = imported(date(2025, 1, 15), date(2026, 1, 15), tenure=12)
    assert loan.is_current(date(2026, 1, 14)) is True
    assert loan.is_current(date(2026, 1, 15)) is False


@given(
    start=st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    months=st.integers(0, 240),
    extra_days=st.integers(0, 400),
    tenure=st.integers(1, 240),
    today=st.dates(date(1999, 1, 1), date(2060, 12, 31)),
)
def test_no_repayments_are_left_exactly_when_the_loan_is_paid(
    start: date, months: int, extra_days: int, tenure: int, today: date
) -> None:
    end = start + timedelta(days=30 * months + extra_days % 31)
    loan = imported(start, end, tenure=tenure)
    left = imported_repayments_left(loan, today)
    assert 0 <= left <= tenure
    assert (left == 0) == (status_on(loan, today) is LoanStatus.PAID)
    assert status_on(loan, today) is imported_status(end, today)
