"""Events about a loan, for subscribers (RULES.md §0 roles decide who may receive them).

Each event carries enough to update a screen without a refetch, who it concerns (the
borrower, the funders) and the loan's own event sequence number, raised in the same
transaction as the change it reports (through the outbox, so never for a rolled-back one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from domain.funding import Funding
from domain.loans import Loan
from domain.money import Money
from domain.outbox import emit_event

PAYMENT_RECEIVED = "paymentReceived"
LOAN_UPDATED = "loanUpdated"


def announce(
    session: Session,
    loan: Loan,
    topic: str,
    *,
    at: datetime,
    outstanding: Money,
    **details: Any,
) -> None:
    """Raise `topic` about `loan`; the caller holds the loan (locked, or just made). Its
    funders are looked up here, so no caller can leave them out."""
    funders = session.exec(select(Funding.provider_id).where(Funding.loan_id == loan.id)).all()
    loan.event_sequence += 1
    session.add(loan)
    emit_event(
        session,
        topic,
        loanId=loan.id,
        loanNumber=loan.number,
        customerId=loan.customer_id,
        providerIds=sorted(set(funders)),
        sequence=loan.event_sequence,
        status=loan.status.value,
        currency=loan.currency,
        outstanding=str(outstanding.amount),
        occurredAt=at.isoformat(),
        **details,
    )
