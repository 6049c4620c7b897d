"""A card's bills and payments are a function of the business dates (RULES.md §4), not of when
the close ran: closing on time, late or catching up gives the same bills, the same split of
every payment and the same ledger."""

import contextlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from domain.billing.bills import CardBill
from domain.billing.calendar import calendar
from domain.errors import DomainError
from domain.ledger import LedgerAccount, verify_ledger
from domain.loans import Loan
from domain.payments import Payment, PaymentAllocation
from tests.domain.test_billing_runs import DISBURSED, NOW, close_days, pin
from tests.domain.test_card_accrual_complete import pay, short_card

Book = dict[str, Any]


def day(n: int) -> date:
    return DISBURSED + timedelta(days=n)


def book_of(session: Session, loan: Loan, refused: list[int]) -> Book:
    bills = session.exec(
        select(CardBill).where(CardBill.loan_id == loan.id).order_by(col(CardBill.number))
    ).all()
    payments = session.exec(
        select(Payment).where(Payment.loan_id == loan.id).order_by(col(Payment.paid_on))
    ).all()
    allocations = session.exec(
        select(Payment.paid_on, PaymentAllocation)
        .join(PaymentAllocation, col(PaymentAllocation.payment_id) == col(Payment.id))
        .where(Payment.loan_id == loan.id)
        .order_by(col(Payment.paid_on), col(PaymentAllocation.id))
    ).all()
    accounts = session.exec(select(LedgerAccount).order_by(col(LedgerAccount.code))).all()
    return {
        "bills": [b.model_dump(exclude={"id", "run_id", "loan_id"}) for b in bills],
        "payments": [(p.paid_on, p.principal_minor, p.interest_minor) for p in payments],
        "allocations": [
            (on, a.kind, a.installment_number, a.principal_minor, a.interest_minor)
            for on, a in allocations
        ],
        "ledger": [(a.code, a.balance_minor) for a in accounts],
        "status": loan.status,
        "refused": refused,
    }


def run(
    factory: sessionmaker[Session],
    terms: tuple[int, Decimal, int],
    payments: list[tuple[int, int]],
    lags: list[int | None],
) -> Book:
    """Pay on the given days; before each payment close through `lag` days before it (None:
    close nothing). Then close every day and read the book. Rolled back afterwards."""
    principal, apr, cycles = terms
    with factory() as session:
        loan = short_card(session, str(Decimal(principal) / 100), str(apr), cycles)
        refused = []
        for n, ((on, minor), lag) in enumerate(zip(payments, lags, strict=True)):
            today = day(on)
            pin(session, today)
            closed = calendar(session, NOW).closed_through
            through = today - timedelta(days=1 + (lag or 0))
            if lag is not None and through >= DISBURSED and (closed is None or through > closed):
                close_days(session, through)
            with contextlib.suppress(DomainError), session.begin_nested():
                refused.append(n)
                pay(session, loan, minor, today, f"payment-{n:04d}")
                refused.pop()
        pin(session, loan.end_date + timedelta(days=1))
        close_days(session, loan.end_date)
        assert verify_ledger(session) == []
        return book_of(session, loan, refused)


terms = st.tuples(
    st.integers(min_value=1_000_00, max_value=20_000_00),
    st.integers(min_value=1200, max_value=3600).map(lambda r: Decimal(r) / 100),
    st.integers(min_value=1, max_value=3),
)
payment_days = st.lists(st.integers(min_value=1, max_value=89), unique=True, max_size=6).map(sorted)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Any, ...]:
    loan = draw(terms)
    days = [d for d in draw(payment_days) if d < loan[2] * 30 + 15]
    amounts = [draw(st.integers(min_value=1_00, max_value=6_000_00)) for _ in days]
    lags = [draw(st.one_of(st.none(), st.integers(0, 40))) for _ in days]
    return loan, list(zip(days, amounts, strict=True)), lags


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_closing_late_or_catching_up_bills_and_splits_payments_as_closing_on_time(
    session_factory: sessionmaker[Session], scenario: tuple[Any, ...]
) -> None:
    loan, payments, lags = scenario
    on_time = run(session_factory, loan, payments, [0] * len(payments))

    late = run(session_factory, loan, payments, lags)

    assert late == on_time


def test_a_payment_after_a_billing_date_not_yet_closed_pays_that_bill(
    session_factory: sessionmaker[Session],
) -> None:
    """Issue 21's example, in the shape of §4: bill 1 left unpaid, a payment three days after
    the second billing date; the second bill carries bill 1's minimum as past due whether the
    close of its day ran before the payment or after it."""
    terms = (5_000_00, Decimal("12.5"), 3)
    payments = [(63, 1000_00)]

    on_time = run(session_factory, terms, payments, [0])
    late = run(session_factory, terms, payments, [None])

    assert late == on_time
    second = on_time["bills"][1]
    assert second["past_due_minor"] == on_time["bills"][0]["minimum_due_minor"] > 0
