"""Paying credit-card loans against their bills (RULES.md §4), over simulated business days."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session

from domain.errors import InvalidInput
from domain.idempotency import SYSTEM_REQUESTER
from domain.ledger import verify_ledger
from domain.loans import Loan, LoanStatus
from domain.payments import PaymentExceedsOutstanding, PaymentRequest, make_payment
from tests.domain.test_billing_runs import (
    DISBURSED,
    NOW,
    bills_of,
    card_loan,
    close_days,
    pin,
)


def day(n: int) -> date:
    return DISBURSED + timedelta(days=n)


def pay_card(session: Session, loan: Loan, amount: str, on: date, key: str) -> None:
    request = PaymentRequest(loan.id or 0, Decimal(amount), on, key)
    make_payment(session, request, today=on, now=NOW, requested_by=SYSTEM_REQUESTER)


def through(session: Session, last: int) -> None:
    pin(session, day(last + 1))
    close_days(session, day(last))


def test_a_partial_payment_carries_the_rest_as_past_due_into_the_next_bill(
    session: Session,
) -> None:
    loan = card_loan(session, 9001)
    through(session, 0)
    through(session, 34)
    assert bills_of(session, loan)[0].minimum_due_minor == 20100

    pay_card(session, loan, "100", day(35), "card-pay-0001")  # before day 35 closes
    through(session, 60)

    first, second = bills_of(session, loan)
    assert first.paid_minor == 10000
    assert second.past_due_minor == 10100  # 201.00 asked, 100.00 paid
    assert second.balance_minor == 500000 - 4900  # 51.00 interest first, then 49.00 principal
    # 4 days at 1.70 and 26 days at 4,951 × 0.034 % = 1.68334: 50.56684 of interest;
    # 148.53 (3 %) + 50.56684 rounds once to 199.10, of which 50.57 is interest.
    assert (second.principal_minor, second.interest_minor) == (14853, 5057)
    assert second.minimum_due_minor == 19910 + 10100
    assert verify_ledger(session) == []


def test_the_final_cycle_bills_everything_and_paying_it_closes_the_loan(
    session: Session,
) -> None:
    loan = card_loan(session, 9001)
    loan.tenure, loan.end_date = 1, DISBURSED + timedelta(days=45)
    session.add(loan)
    through(session, 0)
    through(session, 30)
    (bill,) = bills_of(session, loan)
    assert bill.final and bill.minimum_due_minor == 500000 + 5100

    pay_card(session, loan, "5051", day(31), "card-pay-0002")

    assert loan.status is LoanStatus.PAID
    assert verify_ledger(session) == []
    through(session, 40)
    assert [b.number for b in bills_of(session, loan)] == [1]  # nothing more to bill


def test_one_payment_a_day_and_never_more_than_is_owed(session: Session) -> None:
    loan = card_loan(session, 9001)
    through(session, 0)
    through(session, 31)
    pay_card(session, loan, "10", day(31), "card-pay-0003")

    with pytest.raises(InvalidInput):
        pay_card(session, loan, "10", day(31), "card-pay-0004")
    with pytest.raises(PaymentExceedsOutstanding) as too_much:
        pay_card(session, loan, "6000", day(31) + timedelta(days=1), "card-pay-0005")
    assert too_much.value.payable.amount == Decimal("5041.00")  # 4,990 + 51 billed
