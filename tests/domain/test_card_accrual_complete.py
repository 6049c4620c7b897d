"""No day's card interest is lost (RULES.md §4): every card loan accrues every day from the
day after disbursement through its billing date, however the bank closed its days — the first
close late, days skipped, the business date pinned forward, days closed twice."""

import contextlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from domain.billing.bills import CardBill
from domain.billing.calendar import calendar
from domain.billing.card_payments import card_owed
from domain.errors import DomainError
from domain.idempotency import SYSTEM_REQUESTER
from domain.ledger import verify_ledger
from domain.loans import Loan, LoanStatus
from domain.payments import Payment, PaymentRequest, make_payment
from tests.domain.test_billing_runs import DISBURSED, NOW, card_loan, close_days, pin

CYCLE = 30


def day(n: int) -> date:
    return DISBURSED + timedelta(days=n)


def short_card(session: Session, principal: str, apr: str, cycles: int) -> Loan:
    loan = card_loan(session, 9001, principal, apr)
    loan.tenure, loan.end_date = cycles, DISBURSED + timedelta(days=cycles * CYCLE + 15)
    session.add(loan)
    session.flush()
    return loan


def pay(session: Session, loan: Loan, minor: int, on: date, key: str) -> None:
    request = PaymentRequest(loan.id or 0, Decimal(minor) / 100, on, key)
    make_payment(session, request, today=on, now=NOW, requested_by=SYSTEM_REQUESTER)


def cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Expected:
    """A bill as RULES.md §4 writes it, from the loan's payments alone."""

    balance: int
    principal: int
    principal_and_interest: int


def expected_bill(loan: Loan, payments: list[Payment], bill: CardBill) -> Expected:
    """interest = Σ over the cycle's days of balance × round(APR/365, 3) %, rounded once with
    3 % of the principal (everything on the final bill)."""
    daily = (loan.interest_rate / 365).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)

    def balance_on(d: date) -> int:
        return loan.principal_minor - sum(p.principal_minor for p in payments if p.paid_on <= d)

    cycle = [bill.billing_date - timedelta(days=n) for n in range(CYCLE)]
    interest = sum(
        (Decimal(balance_on(d)) * daily / 100 for d in cycle if d > loan.start_date),
        Decimal(0),
    )
    balance = balance_on(bill.billing_date)
    share = Decimal(balance) if bill.final else Decimal(balance) * Decimal("0.03")
    return Expected(balance, cents(share), cents(share + interest))


def assert_every_bill_counts_every_day(session: Session, loan: Loan) -> None:
    payments = list(session.exec(select(Payment).where(Payment.loan_id == loan.id)).all())
    bills = session.exec(
        select(CardBill).where(CardBill.loan_id == loan.id).order_by(col(CardBill.number))
    ).all()
    for bill in bills:
        got = Expected(
            bill.balance_minor, bill.principal_minor, bill.principal_minor + bill.interest_minor
        )
        assert got == expected_bill(loan, payments, bill), f"bill {bill.number}"
    owed_at_end = loan.principal_minor - sum(p.principal_minor for p in payments)
    if owed_at_end:  # every cycle with something owed was billed, in order
        assert [b.number for b in bills] == list(range(1, loan.tenure + 1))


def test_a_card_disbursed_before_the_first_close_has_every_day_of_its_first_cycle_billed(
    session: Session,
) -> None:
    loan = card_loan(session, 9001)
    pin(session, day(31))

    close_days(session, day(30))  # the bank's first close ever: the cycle's last day

    (bill,) = session.exec(select(CardBill).where(CardBill.loan_id == loan.id)).all()
    assert (bill.interest_minor, bill.minimum_due_minor) == (5100, 20100)  # §4: 51.00, 201.00
    assert verify_ledger(session) == []


def test_a_card_paid_off_before_any_close_stays_open_for_the_interest_its_days_earned(
    session: Session,
) -> None:
    loan = short_card(session, "5000", "12.5", cycles=2)
    pin(session, day(5))

    pay(session, loan, 500000, day(5), "card-payoff-01")  # no day closed yet

    assert loan.status is LoanStatus.ACTIVE  # days 1-4 earned 4 × 1.70
    pin(session, day(31))
    close_days(session, day(30))
    (bill,) = session.exec(select(CardBill).where(CardBill.loan_id == loan.id)).all()
    assert (bill.interest_minor, bill.minimum_due_minor) == (680, 680)
    pay(session, loan, 680, day(31), "card-payoff-02")
    assert loan.status is LoanStatus.PAID


# A close schedule: the business date moves forward by `advance` days, then the bank either
# closes through `lag` days before it (0: yesterday; beyond what is closed: closed twice) or
# the borrower pays `share` per mille of what is payable.
steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40),
        st.one_of(
            st.tuples(st.just("close"), st.integers(min_value=0, max_value=20)),
            st.tuples(st.just("pay"), st.integers(min_value=1, max_value=1000)),
        ),
    ),
    max_size=8,
)
loans = st.tuples(
    st.integers(min_value=1_000_00, max_value=50_000_00),  # principal, minor units
    st.integers(min_value=1200, max_value=3600).map(lambda r: Decimal(r) / 100),  # APR %
    st.integers(min_value=1, max_value=3),  # cycles
)


def run_schedule(session: Session, loan: Loan, schedule: list[tuple[int, tuple[str, int]]]) -> None:
    today, end = DISBURSED, loan.end_date
    for n, (advance, (action, amount)) in enumerate(schedule):
        today = min(today + timedelta(days=advance), end)
        pin(session, today)
        closed = calendar(session, NOW).closed_through
        if action == "close" and today - timedelta(days=1 + amount) >= DISBURSED:
            close_days(session, today - timedelta(days=1 + amount))
        elif action == "pay" and (closed is None or closed < today):
            owed = card_owed(session, loan, 0, 0, as_of=today)  # only its shape matters
            payable = _payable(session, loan, owed.billed_interest_minor)
            if payable > 0:
                # a refusal rolls its savepoint back: it changes nothing
                with contextlib.suppress(DomainError), session.begin_nested():
                    pay(session, loan, max(1, payable * amount // 1000), today, f"payment-{n:04d}")
    pin(session, end + timedelta(days=1))
    close_days(session, end)


def _payable(session: Session, loan: Loan, billed_interest: int) -> int:
    paid = session.exec(select(Payment).where(Payment.loan_id == loan.id)).all()
    return (
        loan.principal_minor
        + billed_interest
        - sum(p.principal_minor + p.interest_minor for p in paid)
    )


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(terms=loans, schedule=steps)
def test_every_bill_asks_the_interest_of_every_day_of_its_cycle_whatever_the_close_order(
    session_factory: sessionmaker[Session],
    terms: tuple[int, Decimal, int],
    schedule: list[tuple[int, tuple[str, int]]],
) -> None:
    principal, apr, cycles = terms
    with session_factory() as session:  # rolled back at the end of each example
        loan = short_card(session, str(Decimal(principal) / 100), str(apr), cycles)
        run_schedule(session, loan, schedule)
        assert_every_bill_counts_every_day(session, loan)
        assert verify_ledger(session) == []
