"""Customer registration, profile changes and lookups, with who-may-see-whom."""

from __future__ import annotations

import structlog
from sqlmodel import Session

from domain import customers as domain
from domain.credit_assessment import CreditAssessment
from domain.customers import (
    Customer,
    CustomerNotFound,
    DuplicateCustomer,
    ProfileChange,
    Registration,
)
from domain.errors import DomainError
from domain.loans import Loan
from domain.national_ids import NationalIdChange, set_national_id
from domain.pagination import Page
from domain.sign_up import SignUpReceived, sign_up
from domain.users import Role, User
from resolvers.context import RequestContext
from resolvers.loaders import CreditAssessmentLoader, CustomerLoansLoader
from resolvers.use_case import admit_anonymous, require_viewer, run_use_case

log = structlog.get_logger(__name__)


def register(
    context: RequestContext, form: Registration
) -> Customer | SignUpReceived | DomainError:
    """Signed out: self sign-up, answered alike whoever is registered. Signed in: staff
    register on the customer's behalf (and hear precisely what clashes); others may not."""
    if context.viewer is None:
        return _sign_up(context, form)

    def use_case(session: Session) -> Customer:
        by = session.get(User, context.viewer.user_id) if context.viewer else None
        return domain.register_customer(session, form, context.today(), by)

    return run_use_case(context, use_case)


def _sign_up(context: RequestContext, form: Registration) -> SignUpReceived | DomainError:
    refused = admit_anonymous(context, form.username or "")
    if refused is not None:
        return refused
    received = run_use_case(context, lambda session: sign_up(session, form, context.today()))
    clash = received.clash if isinstance(received, SignUpReceived) else None
    if clash is not None:
        taken = clash.field if isinstance(clash, DuplicateCustomer) else "username"
        log.info("self_sign_up_not_completed", request_id=context.request_id, taken=taken)
    return received


def update_my_profile(context: RequestContext, change: ProfileChange) -> Customer | DomainError:
    def use_case(session: Session) -> Customer:
        viewer = require_viewer(context)
        customer = domain.customer_of_user(session, viewer.user_id)
        if customer is None:
            raise CustomerNotFound()
        return domain.update_profile(session, customer, change)

    return run_use_case(context, use_case)


def verify_identity(context: RequestContext, customer_id: int) -> Customer | DomainError:
    def use_case(session: Session) -> Customer:
        require_viewer(context, Role.STAFF)
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise CustomerNotFound()
        return domain.verify_identity(session, customer)

    return run_use_case(context, use_case)


def update_customer(
    context: RequestContext, customer_id: int, change: NationalIdChange
) -> Customer | DomainError:
    def use_case(session: Session) -> Customer:
        require_viewer(context, Role.STAFF)
        found = session.get(Customer, customer_id, with_for_update=True)
        if found is None:
            raise CustomerNotFound()
        return set_national_id(session, found, change)

    return run_use_case(context, use_case)


def customers_page(
    context: RequestContext, search: str | None, first: int, after: int | None
) -> Page[Customer]:
    require_viewer(context, Role.STAFF)
    page = domain.search_customers(context.db, search, first, after)
    context.loader(CreditAssessmentLoader).prime(list(page.items))
    context.loader(CustomerLoansLoader).prime(c.id for c in page.items)
    return page


def visible_customers(context: RequestContext, ids: list[int]) -> dict[int, Customer]:
    """The customers among `ids` the viewer may see: staff all, a customer only themself."""
    viewer = context.viewer
    if viewer is None:
        return {}
    found = domain.customers_by_ids(context.db, ids)
    if viewer.role is not Role.STAFF:
        found = {i: c for i, c in found.items() if c.user_id == viewer.user_id}
    context.loader(CreditAssessmentLoader).prime(list(found.values()))
    return found


def my_customer(context: RequestContext) -> Customer | None:
    if context.viewer is None:
        return None
    return domain.customer_of_user(context.db, context.viewer.user_id)


def credit_assessment(context: RequestContext, customer: Customer) -> CreditAssessment:
    return context.loader(CreditAssessmentLoader).load(customer)


def loans_of(context: RequestContext, customer: Customer) -> list[Loan]:
    """Every loan of a customer the viewer may already see, batched with the page."""
    assert customer.id is not None
    loans: list[Loan] = context.loader(CustomerLoansLoader).load(customer.id) or []
    return loans
