"""A customer's national id (Aadhar id), set by staff who saw the document: it links the
customer to the bank's savings transactions, keyed by that id, from which the transaction
score is computed (RULES.md §4). Customers imported from the spreadsheet have none until then.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, delete

from domain import customer_rules as rules
from domain.credit_assessment import TransactionScore
from domain.customers import Customer, IdType, refuse_duplicates, save_unique
from domain.outbox import emit_job


@dataclass(frozen=True)
class NationalIdChange:
    national_id: str
    id_type: IdType | None = None  # AADHAR when omitted, as at registration


def set_national_id(session: Session, customer: Customer, change: NationalIdChange) -> Customer:
    """Set the customer's national id, verified, and have their transaction score computed
    in the background exactly as after a staff registration. The id is validated as at
    registration; one another customer holds is refused and nothing changes; setting the id
    the customer already has, verified, changes nothing."""
    problems = rules.Problems.new()
    rules.check_national_id(problems, change.national_id)
    problems.raise_if_any()
    id_type = change.id_type or IdType.AADHAR
    wanted = (id_type, change.national_id)
    held = (customer.id_type, customer.national_id)
    if held == wanted and customer.national_id_verified:
        return customer
    refuse_duplicates(session, customer.phone, id_type, change.national_id, exclude=customer.id)
    customer.id_type, customer.national_id = wanted
    customer.national_id_verified = True
    save_unique(session, customer)  # a concurrent claim on the id loses here, typed
    if held != wanted:  # a score from the old id's transactions is not this customer's
        stale = delete(TransactionScore).where(col(TransactionScore.customer_id) == customer.id)
        session.exec(stale)
    emit_job(session, "compute_transaction_scores", national_ids=[change.national_id])
    return customer
