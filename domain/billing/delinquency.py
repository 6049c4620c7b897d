"""Overdue installments and delinquency (RULES.md §0, §2, §5), as of a business day.

An installment is due on its due date and overdue the day after, while unpaid. A loan is
delinquent by its product's rule: TWO_MISSED_IN_A_ROW means the two most recent installments
due are both unpaid (weekly flat §5; monthly EMI loans ship with it too). A provider-funded
loan still owed after its duration becomes OVERDUE. Changes raise loanUpdated (and a
delinquency warning to the borrower) through the outbox; a day marked twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from domain.customers import Customer
from domain.loan_events import LOAN_UPDATED, announce
from domain.loans import Loan, LoanStatus
from domain.notifications import NotificationKind, notify
from domain.origination import ScheduledDue, schedules_of, still_owed
from domain.products import DelinquencyRule, FundingSource, LoanProduct, RepaymentStyle

OPEN = (LoanStatus.ACTIVE, LoanStatus.OVERDUE)
INSTALLMENT_STYLES = (
    RepaymentStyle.EMI_REDUCING,
    RepaymentStyle.FLAT_INSTALLMENTS,
    RepaymentStyle.FLAT_SINGLE,
)


def overdue(dues: list[ScheduledDue], day: date) -> list[ScheduledDue]:
    return [d for d in dues if d.due_date < day and d.remaining > 0]


def days_past_due(dues: list[ScheduledDue], day: date) -> int:
    late = overdue(dues, day)
    return (day - late[0].due_date).days if late else 0


def is_delinquent(dues: list[ScheduledDue], rule: DelinquencyRule, day: date) -> bool:
    """§5: at the close of `day`, the two most recent installments due are both unpaid."""
    if rule is DelinquencyRule.NONE:
        return False
    recent = [d for d in dues if d.due_date <= day][-2:]
    return len(recent) == 2 and all(d.remaining > 0 for d in recent)


def _status(loan: Loan, product: LoanProduct, dues: list[ScheduledDue], day: date) -> LoanStatus:
    owed = any(d.remaining > 0 for d in dues)
    if product.funding_source is FundingSource.PROVIDERS and owed and loan.end_date < day:
        return LoanStatus.OVERDUE
    return loan.status


def refresh(
    session: Session,
    loan: Loan,
    product: LoanProduct,
    dues: list[ScheduledDue],
    *,
    day: date,
    now: datetime,
) -> bool:
    """Set the loan's delinquency and status as of `day`; true if either changed."""
    flag = is_delinquent(dues, product.delinquency_rule, day)
    status = _status(loan, product, dues, day)
    if flag == loan.delinquent and status is loan.status:
        return False
    became = flag and not loan.delinquent
    loan.delinquent, loan.status = flag, status
    announce(
        session,
        loan,
        LOAN_UPDATED,
        at=now,
        outstanding=still_owed(dues, loan.currency).total,
        delinquent=flag,
        daysPastDue=days_past_due(dues, day),
    )
    if became:
        _warn(session, loan, dues, day, now)
    return True


def _warn(session: Session, loan: Loan, dues: list[ScheduledDue], day: date, now: datetime) -> None:
    customer = session.get(Customer, loan.customer_id)
    latest = [d for d in dues if d.due_date <= day][-1]
    notify(
        session,
        user_id=customer.user_id if customer is not None else None,
        kind=NotificationKind.DELINQUENCY_WARNING,
        about=f"loan:{loan.id}:due:{latest.due_date.isoformat()}",  # once per due date
        title="Payments missed",
        body=f"Loan {loan.number} has missed its last two installments "
        f"({days_past_due(dues, day)} days past due). Pay the oldest one to catch up.",
        loan_id=loan.id,
        now=now,
    )


@dataclass(frozen=True)
class OpenLoans:
    """A chunk's open loans with their products and installments, loaded once for every
    rule of the day that needs them."""

    rows: list[tuple[Loan, LoanProduct]]
    schedules: dict[int, list[ScheduledDue]]


def open_loans(session: Session, first_id: int, last_id: int) -> OpenLoans:
    rows = [
        (loan, product)
        for loan, product in session.exec(
            select(Loan, LoanProduct)
            .join(LoanProduct, col(LoanProduct.id) == col(Loan.product_id))
            .where(col(Loan.status).in_(OPEN), col(Loan.id).between(first_id, last_id))
            .order_by(col(Loan.id))
        ).all()
    ]
    installment_loans = [
        loan.id
        for loan, product in rows
        if product.repayment_style in INSTALLMENT_STYLES and loan.id is not None
    ]
    return OpenLoans(rows, schedules_of(session, installment_loans))


def mark_delinquency(session: Session, book: OpenLoans, day: date, now: datetime) -> int:
    """The installment loans of the chunk, as of the close of `day`; how many changed."""
    changed = 0
    for loan, product in book.rows:
        if loan.id not in book.schedules or loan.start_date >= day:
            continue
        if refresh(session, loan, product, book.schedules[loan.id], day=day, now=now):
            session.add(loan)
            changed += 1
    return changed
