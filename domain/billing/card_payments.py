"""Paying a credit-card loan (RULES.md §4): past dues first, then the current minimum due
(both are what the latest bill still asks for), then principal; within that, billed
interest before principal. The loan closes when no principal and no interest are owed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from domain.billing.accrual import InterestAccrual
from domain.billing.bills import CardBill, interest_receivable_account
from domain.ledger import AccountSpec
from domain.loans import Loan


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


def card_owed(session: Session, loan: Loan, principal_paid: int, interest_paid: int) -> CardOwed:
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
    return CardOwed(
        loan.principal_minor - principal_paid,
        int(billed) - interest_paid,
        int(session.exec(since).one()),
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


def card_interest_account(loan: Loan) -> AccountSpec:
    return interest_receivable_account(loan)
