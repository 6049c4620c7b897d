"""A customer's credit assessment: the loan-history score and the transaction score.

The loan-history score is computed when asked (it depends on today's date); the transaction
score is computed in the background after registration or a transaction import, and stored
with the balance it came from. Both are loaded for many customers in a constant number of
queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from domain.customers import Customer
from domain.loans import CLOSED_STATUSES, Loan, loans_of_customers, status_on
from domain.money import Money
from domain.savings import account_holders, balances
from domain.scoring.loan_history import LoanHistoryScore, LoanRecord, loan_history_score
from domain.scoring.transactions import transaction_score
from domain.tables import timestamp_column
from domain.upsert import upsert


class TransactionScore(SQLModel, table=True):
    __tablename__ = "transaction_scores"

    customer_id: int = Field(foreign_key="customers.id", primary_key=True)
    score: int
    balance_minor: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    transaction_count: int
    computed_at: datetime = Field(sa_column=timestamp_column())

    @property
    def balance(self) -> Money:
        return Money.from_minor(self.balance_minor, self.currency)


@dataclass(frozen=True)
class CreditAssessment:
    loan_history: LoanHistoryScore
    loan_history_computed_at: datetime
    transactions: TransactionScore | None


def _record(loan: Loan, today: date) -> LoanRecord:
    return LoanRecord(
        loan.principal.amount,
        loan.tenure_in_months,
        loan.emis_paid_on_time,
        loan.start_date,
        loan.end_date,
        closed=status_on(loan, today) in CLOSED_STATUSES,
    )


def assess_customers(
    session: Session, customers: Sequence[Customer], today: date, now: datetime
) -> dict[int, CreditAssessment]:
    """Assessments for many customers in two queries."""
    ids = [c.id for c in customers if c.id is not None]
    loans = loans_of_customers(session, ids)
    stored = (
        session.exec(
            select(TransactionScore).where(col(TransactionScore.customer_id).in_(ids))
        ).all()
        if ids
        else []
    )
    by_customer = {s.customer_id: s for s in stored}
    return {
        c.id: CreditAssessment(
            loan_history_score(
                [_record(loan, today) for loan in loans[c.id]], c.approved_limit.amount, today
            ),
            now,
            by_customer.get(c.id),
        )
        for c in customers
        if c.id is not None
    }


def refresh_transaction_scores(session: Session, national_ids: list[str], now: datetime) -> int:
    """Recompute the stored score of every customer with these Aadhar ids (idempotent)."""
    if not national_ids:
        return 0
    # Locked, in id order: two overlapping score jobs apply one after the other, never
    # an older balance over a newer one. Only verified ids get bank data (see customers).
    customers = session.exec(
        account_holders(national_ids).order_by(col(Customer.id)).with_for_update()
    ).all()
    totals = balances(session, [c.national_id for c in customers if c.national_id])
    rows = []
    for customer in customers:
        total = totals.get(customer.national_id or "")
        if total is None:
            continue  # no transactions: no score (RULES.md §4)
        balance_minor, count = total
        balance = Money.from_minor(balance_minor, customer.currency).amount
        rows.append(
            {
                "customer_id": customer.id,
                "score": transaction_score(Decimal(balance)),
                "balance_minor": balance_minor,
                "currency": customer.currency,
                "transaction_count": count,
                "computed_at": now,
            }
        )
    upsert(session, TransactionScore, rows, key=["customer_id"])
    return len(rows)
