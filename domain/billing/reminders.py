"""Reminders and missed payments (RULES.md §5): borrowers are told `reminder_days` (a product
setting) before each due date that a payment is coming, and on the close of a due date that
it was missed; credit-card bills likewise. Each kind at most once per loan per due date."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session

from domain.billing.bills import bills_of
from domain.billing.delinquency import OpenLoans
from domain.customers import Customer
from domain.loans import Loan
from domain.money import Money
from domain.notifications import NotificationKind, notify
from domain.origination import by_ids
from domain.products import LoanProduct, RepaymentStyle

Due = tuple[date, int]  # a due date and the minor units it still asks for


def _dues(session: Session, book: OpenLoans, cards: set[int]) -> dict[int, list[Due]]:
    """(due date, minor units still asked) of each loan: installments, or card bills."""
    found: dict[int, list[Due]] = {
        loan_id: [(d.due_date, d.remaining) for d in dues]
        for loan_id, dues in book.schedules.items()
    }
    for loan_id, rows in bills_of(session, sorted(cards)).items():
        found[loan_id] = [(b.due_date, max(0, b.minimum_due_minor - b.paid_minor)) for b in rows]
    return found


def remind(session: Session, book: OpenLoans, day: date, now: datetime) -> int:
    """Reminders for dues `reminder_days` ahead, and missed-payment notices for dues that
    fell due today and are still unpaid at its close; how many were raised."""
    cards = {
        loan.id
        for loan, product in book.rows
        if product.repayment_style is RepaymentStyle.REVOLVING and loan.id is not None
    }
    dues = _dues(session, book, cards)
    owners = by_ids(session, Customer, list({loan.customer_id for loan, _ in book.rows}))
    raised = 0
    for loan, product in book.rows:
        user = getattr(owners.get(loan.customer_id), "user_id", None)
        if user is None:
            continue  # nobody to tell: the customer has no sign-in
        for kind, due in _notices(dues.get(loan.id or 0, []), day, product):
            _tell(session, loan, user, kind, due, now=now)
            raised += 1
    return raised


def _notices(
    dues: list[Due], day: date, product: LoanProduct
) -> list[tuple[NotificationKind, Due]]:
    ahead = day + timedelta(days=product.reminder_days) if product.reminder_days else None
    found = []
    for due in dues:
        if due[1] <= 0:
            continue
        if due[0] == ahead:
            found.append((NotificationKind.PAYMENT_REMINDER, due))
        elif due[0] == day:
            found.append((NotificationKind.MISSED_PAYMENT, due))
    return found


def _tell(
    session: Session,
    loan: Loan,
    user_id: int | None,
    kind: NotificationKind,
    due: Due,
    *,
    now: datetime,
) -> None:
    due_date, owed = due[0], Money.from_minor(due[1], loan.currency)
    if kind is NotificationKind.PAYMENT_REMINDER:
        title = "Payment due soon"
        body = f"{owed} is due on loan {loan.number} on {due_date.isoformat()}."
    else:
        title = "Payment missed"
        body = f"{owed} was due on loan {loan.number} on {due_date.isoformat()} and is unpaid."
    notify(
        session,
        user_id=user_id,
        kind=kind,
        about=f"loan:{loan.id}:due:{due_date.isoformat()}",
        title=title,
        body=body,
        loan_id=loan.id,
        now=now,
    )
