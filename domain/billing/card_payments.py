"""Paying a credit-card loan (RULES.md §4): past dues first, then the current minimum due
(both are what the latest bill still asks for), then principal; within that, billed
interest before principal. The loan closes when no principal and no interest are owed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, func, select

from domain.billing.accrual import InterestAccrual, not_yet_accrued_nano
from domain.billing.bills import CardBill
from domain.billing.calendar import days_between
from domain.loans import Loan
from domain.money import Money
from domain.origination import ScheduledDue
from domain.schedules import revolving_projection


@dataclass(frozen=True)
class CardOwed:
    """What a card loan owes now: principal, interest billed, and interest accrued since the
    last bill (nano-units of the minor unit; it is owed once billed)."""

    principal_minor: int
    billed_interest_minor: int
    unbilled_nano: int

    @property
    def payable_minor(self) -> int:
        return self.principal_minor + self.billed_interest_minor

    @property
    def settled(self) -> bool:
        return self.payable_minor == 0 and self.unbilled_nano == 0


@dataclass(frozen=True)
class CardPlan:
    """How one payment splits: against the latest bill, and beyond it (principal)."""

    bill: CardBill | None
    to_bill_minor: int
    interest_minor: int
    principal_minor: int


def latest_bill(session: Session, loan_id: int) -> CardBill | None:
    return session.exec(
        select(CardBill).where(CardBill.loan_id == loan_id).order_by(col(CardBill.number).desc())
    ).first()


def card_owed(
    session: Session, loan: Loan, principal_paid: int, interest_paid: int, *, as_of: date
) -> CardOwed:
    """What the loan owes on `as_of`: interest not yet billed counts every day since the last
    bill before `as_of`, kept by a close or not (a day not closed yet still earned interest)."""
    billed = session.exec(
        select(func.coalesce(func.sum(CardBill.interest_minor), 0)).where(
            CardBill.loan_id == loan.id
        )
    ).one()
    last = latest_bill(session, loan.id or 0)
    since = select(func.coalesce(func.sum(InterestAccrual.amount_nano), 0)).where(
        InterestAccrual.loan_id == loan.id
    )
    if last is not None:
        since = since.where(col(InterestAccrual.accrued_on) > last.billing_date)
    start = last.billing_date if last is not None else loan.start_date
    unclosed = days_between(start + timedelta(days=1), as_of - timedelta(days=1))
    return CardOwed(
        loan.principal_minor - principal_paid,
        int(billed) - interest_paid,
        int(session.exec(since).one()) + not_yet_accrued_nano(session, loan.id or 0, unclosed),
    )


def plan_card_payment(session: Session, loan: Loan, owed: CardOwed, amount_minor: int) -> CardPlan:
    """The caller has checked that `amount_minor` is at most `owed.payable_minor`."""
    bill = latest_bill(session, loan.id or 0)
    outstanding = max(0, bill.minimum_due_minor - bill.paid_minor) if bill else 0
    interest = min(amount_minor, owed.billed_interest_minor)
    return CardPlan(bill, min(amount_minor, outstanding), interest, amount_minor - interest)


def apply_card_plan(session: Session, plan: CardPlan) -> None:
    if plan.bill is not None and plan.to_bill_minor:
        plan.bill.paid_minor += plan.to_bill_minor
        session.add(plan.bill)


def statement_dues(loan: Loan, bills: list[CardBill], principal_paid: int) -> list[ScheduledDue]:
    """A card loan's upcoming dues for its statement (§4): what the latest bill still asks,
    then the bills to come projected from the current principal, assuming each minimum due
    is paid on its due date. Built in memory, never stored."""
    dues = []
    latest = bills[-1] if bills else None
    if latest is not None and latest.minimum_due_minor > latest.paid_minor:
        owed = latest.minimum_due_minor - latest.paid_minor
        dues.append(_due(loan, latest.number, latest.due_date, owed, 0))
    cycles = loan.tenure - len(bills)
    balance = loan.principal_minor - principal_paid
    if cycles > 0 and balance > 0:
        start = latest.billing_date if latest is not None else loan.start_date
        for bill in revolving_projection(
            Money.from_minor(balance, loan.currency), loan.interest_rate, cycles, start
        ):
            principal, interest = bill.principal.to_minor(), bill.interest.to_minor()
            dues.append(_due(loan, len(bills) + bill.number, bill.due_date, principal, interest))
    return dues


def _due(loan: Loan, number: int, on: date, principal: int, interest: int) -> ScheduledDue:
    return ScheduledDue(
        loan_id=loan.id or 0,
        number=number,
        due_date=on,
        principal_minor=principal,
        interest_minor=interest,
    )


def card_position(loan: Loan, bills: list[CardBill], paid: tuple[int, int]) -> CardOwed:
    """What a card loan owes from loaded rows (for lists): principal and billed interest
    less what payments (principal, interest) took; interest not yet billed is left out."""
    billed = sum(b.interest_minor for b in bills)
    return CardOwed(loan.principal_minor - paid[0], billed - paid[1], 0)


def current_minimum(bills: list[CardBill]) -> int:
    """What the latest bill still asks for (past dues and the minimum due)."""
    return max(0, bills[-1].minimum_due_minor - bills[-1].paid_minor) if bills else 0
