"""Credit-card bills (RULES.md §4): every 30 days from disbursement a bill asks for 3 % of the
principal balance plus the cycle's accrued interest, rounded once, plus any earlier minimum
left unpaid (past due), due 15 days later; the term's final bill asks for everything owed.
A bill's interest is booked as earned (the loan's interest receivable against interest
income) when the bill is issued. One bill per (loan, cycle): issuing twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, func, select

from domain.accounts import interest_income_account, interest_receivable_account
from domain.billing.accrual import GRACE, NANO_PER_MINOR, InterestAccrual, accrue_card_interest
from domain.billing.calendar import calendar, days_between
from domain.customers import Customer
from domain.ledger import Leg, credit, debit, open_accounts, post
from domain.loans import Loan, LoanStatus
from domain.money import MINOR_UNIT_EXPONENTS, Money
from domain.notifications import NotificationKind, notify
from domain.products import LoanProduct, RepaymentStyle
from domain.upsert import insert_ignoring_conflicts

CYCLE = timedelta(days=30)
MINIMUM_PRINCIPAL_SHARE = Decimal("0.03")


class CardBill(SQLModel, table=True):
    __tablename__ = "card_bills"
    __table_args__ = (sa.UniqueConstraint("loan_id", "number", name="uq_card_bill_cycle"),)

    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loans.id", index=True)
    number: int  # the billing cycle, 1 to the loan's tenure
    billing_date: date
    due_date: date
    principal_minor: int = Field(sa_type=sa.BigInteger)  # the principal part asked for
    interest_minor: int = Field(sa_type=sa.BigInteger)  # the cycle's interest
    past_due_minor: int = Field(sa_type=sa.BigInteger)  # earlier minimums left unpaid
    minimum_due_minor: int = Field(sa_type=sa.BigInteger)  # all three together
    balance_minor: int = Field(sa_type=sa.BigInteger)  # principal balance when billed
    paid_minor: int = Field(default=0, sa_type=sa.BigInteger)
    final: bool = False
    run_id: int | None = Field(default=None, foreign_key="billing_runs.id", index=True)


@dataclass(frozen=True)
class _Due:
    loan: Loan
    number: int


def _due_today(session: Session, day: date, first_id: int, last_id: int) -> list[_Due]:
    loans = session.exec(
        select(Loan)
        .join(LoanProduct, col(LoanProduct.id) == col(Loan.product_id))
        .where(
            col(LoanProduct.repayment_style) == RepaymentStyle.REVOLVING,
            col(Loan.status).in_([LoanStatus.ACTIVE, LoanStatus.PAID]),  # as of the day
            col(Loan.id).between(first_id, last_id),
            col(Loan.start_date) < day,
            col(Loan.end_date) >= day + GRACE,
        )
    ).all()
    due = []
    for loan in loans:
        days = (day - loan.start_date).days
        if days % CYCLE.days == 0 and 1 <= days // CYCLE.days <= loan.tenure:
            due.append(_Due(loan, days // CYCLE.days))
    return due


def _sums(session: Session, statement: object) -> dict[int, int]:
    return {int(k): int(v or 0) for k, v in session.exec(statement).all()}  # type: ignore[call-overload]


def _cycle_interest_nano(session: Session, ids: list[int], day: date) -> dict[int, int]:
    return _sums(
        session,
        select(InterestAccrual.loan_id, func.sum(InterestAccrual.amount_nano))
        .where(
            col(InterestAccrual.loan_id).in_(ids),
            col(InterestAccrual.accrued_on) > day - CYCLE,
            col(InterestAccrual.accrued_on) <= day,
        )
        .group_by(col(InterestAccrual.loan_id)),
    )


# The payments table, by name: domain.payments builds on these bills (card payments).
_PAYMENTS = sa.table(
    "payments",
    sa.column("loan_id"),
    sa.column("principal_minor"),
    sa.column("interest_minor"),
    sa.column("paid_on"),
)


def _principal_paid(session: Session, ids: list[int], day: date) -> dict[int, int]:
    """Principal repaid by `day`: later bills come from the new principal (§4)."""
    return _sums(
        session,
        select(_PAYMENTS.c.loan_id, func.sum(_PAYMENTS.c.principal_minor))
        .where(_PAYMENTS.c.loan_id.in_(ids), _PAYMENTS.c.paid_on <= day)
        .group_by(_PAYMENTS.c.loan_id),
    )


def _interest_paid(session: Session, ids: list[int], day: date) -> dict[int, int]:
    return _sums(
        session,
        select(_PAYMENTS.c.loan_id, func.sum(_PAYMENTS.c.interest_minor))
        .where(_PAYMENTS.c.loan_id.in_(ids), _PAYMENTS.c.paid_on <= day)
        .group_by(_PAYMENTS.c.loan_id),
    )


def _interest_billed(session: Session, ids: list[int]) -> dict[int, int]:
    return _sums(
        session,
        select(CardBill.loan_id, func.sum(CardBill.interest_minor))
        .where(col(CardBill.loan_id).in_(ids))
        .group_by(col(CardBill.loan_id)),
    )


def _past_due(session: Session, ids: list[int]) -> dict[int, int]:
    """What each loan's latest bill asked for as a minimum and has not been paid."""
    latest = (
        select(CardBill.loan_id, func.max(CardBill.number).label("number"))
        .where(col(CardBill.loan_id).in_(ids))
        .group_by(col(CardBill.loan_id))
        .subquery()
    )
    rows = session.exec(
        select(CardBill).join(
            latest,
            sa.and_(
                col(CardBill.loan_id) == latest.c.loan_id, col(CardBill.number) == latest.c.number
            ),
        )
    ).all()
    return {b.loan_id: max(0, b.minimum_due_minor - b.paid_minor) for b in rows}


@dataclass(frozen=True)
class _Owed:
    """A loan's position when billed: principal balance, the earlier minimum left unpaid,
    and the interest billed before and not yet paid (part of that minimum)."""

    balance: int
    past_due: int
    unpaid_interest: int


def _bill(due: _Due, day: date, interest_nano: int, owed_now: _Owed) -> dict[str, object]:
    """§4: min due = principal × 3 % + the cycle's interest, rounded once; the interest part
    is what the rounded due leaves after the (rounded) principal part. Never more than
    everything owed (unpaid minimums already hold principal); the final bill asks exactly
    that: the balance, the cycle's interest and interest billed before and still unpaid."""
    balance, past_due = owed_now.balance, owed_now.past_due
    currency = due.loan.currency
    per_major = NANO_PER_MINOR * 10 ** MINOR_UNIT_EXPONENTS[currency]
    interest = Money(Decimal(interest_nano) / per_major, currency)  # full precision
    principal = Money.from_minor(balance, currency)
    final = due.number == due.loan.tenure
    share = principal if final else principal * MINIMUM_PRINCIPAL_SHARE
    part = share.rounded().to_minor()
    owed = (share + interest).rounded().to_minor()
    everything = (principal + interest).rounded().to_minor() + owed_now.unpaid_interest
    return {
        "loan_id": due.loan.id,
        "number": due.number,
        "billing_date": day,
        "due_date": day + GRACE,
        "principal_minor": part,
        "interest_minor": owed - part,
        "past_due_minor": past_due,
        "minimum_due_minor": (everything if final else min(owed + past_due, everything)),
        "balance_minor": balance,
        "paid_minor": 0,
        "final": final,
    }


@dataclass(frozen=True)
class Billed:
    """What billing one day did for a range of loans: bills issued, and days of their cycles
    accrued only now (closed before the bank's first close, or never closed)."""

    bills: int
    accruals: int


def _complete_cycles(
    session: Session, due: list[_Due], day: date, span: tuple[int, int, int | None]
) -> int:
    """Accrue every day of the billed cycles still missing, so no bill loses a day (§4)."""
    ids = [d.loan.id for d in due if d.loan.id is not None]
    cycle = days_between(day - CYCLE + timedelta(days=1), day)
    return accrue_card_interest(session, cycle, *span, loan_ids=ids)


def issue_bills(
    session: Session,
    day: date,
    first_id: int,
    last_id: int,
    run_id: int | None,
    *,
    now: datetime,
) -> Billed:
    """Bill the card loans in the id range whose cycle ends on `day`."""
    due = _due_today(session, day, first_id, last_id)
    if not due:
        return Billed(0, 0)
    filled = _complete_cycles(session, due, day, (first_id, last_id, run_id))
    ids = [d.loan.id for d in due if d.loan.id is not None]
    interest = _cycle_interest_nano(session, ids, day)
    paid, past = _principal_paid(session, ids, day), _past_due(session, ids)
    billed, interest_paid = _interest_billed(session, ids), _interest_paid(session, ids, day)

    def owed_now(loan_id: int, principal: int) -> _Owed:
        unpaid = billed.get(loan_id, 0) - interest_paid.get(loan_id, 0)
        return _Owed(principal - paid.get(loan_id, 0), past.get(loan_id, 0), unpaid)

    bills = [
        {
            **_bill(
                d,
                day,
                interest.get(d.loan.id or 0, 0),
                owed_now(d.loan.id or 0, d.loan.principal_minor),
            ),
            "run_id": run_id,
        }
        for d in due
    ]
    rows = [b for b in bills if b["minimum_due_minor"] or b["balance_minor"]]  # nothing owed
    issued = insert_ignoring_conflicts(session, CardBill, rows)
    if issued:
        _book_interest(session, [d.loan for d in due], day, run_id)
        _announce_bills(session, [d.loan for d in due], day, now)
    return Billed(issued, filled)


def _announce_bills(session: Session, loans: list[Loan], day: date, now: datetime) -> None:
    """A "bill issued" notification to each borrower, once per bill."""
    owners = {
        c.id: c.user_id
        for c in session.exec(
            select(Customer).where(col(Customer.id).in_({loan.customer_id for loan in loans}))
        )
    }
    by_id = {loan.id: loan for loan in loans}
    for bill in session.exec(
        select(CardBill).where(
            col(CardBill.loan_id).in_(list(by_id)), col(CardBill.billing_date) == day
        )
    ):
        loan = by_id[bill.loan_id]
        due = Money.from_minor(bill.minimum_due_minor, loan.currency)
        notify(
            session,
            user_id=owners.get(loan.customer_id),
            kind=NotificationKind.BILL_ISSUED,
            about=f"loan:{loan.id}:bill:{bill.number}",
            title="Your bill is ready",
            body=f"Loan {loan.number}: bill {bill.number} asks for {due} by "
            f"{bill.due_date.isoformat()}.",
            loan_id=loan.id,
            now=now,
        )


def _book_interest(session: Session, loans: list[Loan], day: date, run_id: int | None) -> None:
    """One journal entry per currency for the bills just issued by this run on this day."""
    bills = session.exec(
        select(CardBill).where(
            col(CardBill.loan_id).in_([loan.id for loan in loans]),
            col(CardBill.billing_date) == day,
            col(CardBill.run_id) == run_id,  # the bills of this chunk's transaction
            col(CardBill.interest_minor) > 0,
        )
    ).all()
    by_id = {loan.id: loan for loan in loans}
    for currency in sorted({by_id[b.loan_id].currency for b in bills}):
        mine = [b for b in bills if by_id[b.loan_id].currency == currency]
        specs = [interest_receivable_account(by_id[b.loan_id]) for b in mine]
        income = interest_income_account(currency)
        accounts = open_accounts(session, [*specs, income])
        legs: list[Leg] = [
            debit(accounts[spec.code], Money.from_minor(b.interest_minor, currency))
            for spec, b in zip(specs, mine, strict=True)
        ]
        total = Money.from_minor(sum(b.interest_minor for b in mine), currency)
        legs.append(credit(accounts[income.code], total))
        post(
            session,
            "INTEREST_BILLED",
            f"Card interest billed {day}",
            day,
            legs,
            # a run's bills, or one loan's billed ahead of its close by a payment
            reference=f"card-bills:{day}:{run_id or f'loan-{loans[0].id}'}:{currency}",
        )


def bill_cycles_ended(session: Session, loan: Loan, before: date, now: datetime) -> int:
    """Issue, in order, the loan's bills whose billing date is before `before` and whose day
    has not been closed yet; bills issued. A payment dated after a billing date then pays
    that bill, as it would have had the close run on time: a bill and a payment's split are
    a function of the business dates, not of when the close ran."""
    last = session.exec(select(func.max(CardBill.number)).where(CardBill.loan_id == loan.id))
    closed = calendar(session, now).closed_through
    issued = 0
    for number in range(int(last.one() or 0) + 1, loan.tenure + 1):
        day = loan.start_date + CYCLE * number
        if day >= before:
            break
        if closed is None or day > closed:  # a closed day's bill was issued by its close
            issued += issue_bills(session, day, loan.id or 0, loan.id or 0, None, now=now).bills
    return issued


def bills_of(session: Session, loan_ids: list[int]) -> dict[int, list[CardBill]]:
    """Each loan's bills, oldest first, in one query."""
    grouped: dict[int, list[CardBill]] = {i: [] for i in loan_ids}
    if loan_ids:
        for bill in session.exec(
            select(CardBill)
            .where(col(CardBill.loan_id).in_(loan_ids))
            .order_by(col(CardBill.loan_id), col(CardBill.number))
        ):
            grouped[bill.loan_id].append(bill)
    return grouped
