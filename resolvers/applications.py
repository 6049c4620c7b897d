"""Eligibility: what a product's policy would decide, for a customer or for oneself."""

from __future__ import annotations

from domain import applications as domain
from domain.applications import LoanAsk
from domain.customers import Customer, CustomerNotFound, customer_of_user
from domain.decisions import Decision
from domain.errors import DomainError
from domain.users import Role
from resolvers.context import RequestContext
from resolvers.use_case import require_viewer


def _customer(context: RequestContext, customer_id: int | None) -> Customer:
    """STAFF name the customer; a customer always asks for themself."""
    viewer = require_viewer(context, Role.STAFF, Role.CUSTOMER)
    if viewer.role is Role.STAFF and customer_id is not None:
        customer = context.db.get(Customer, customer_id)
    else:
        customer = customer_of_user(context.db, viewer.user_id)
        if customer is not None and customer_id is not None and customer.id != customer_id:
            customer = None  # another customer's id: as if it did not exist
    if customer is None:
        raise CustomerNotFound()
    return customer


def eligibility(
    context: RequestContext, ask: LoanAsk, customer_id: int | None
) -> Decision | DomainError:
    try:
        customer = _customer(context, customer_id)
        return domain.evaluate(context.db, customer, ask, context.now())
    except DomainError as error:
        return error
