"""Applying for loans and reading loans and applications: customers their own, staff all."""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from sqlmodel import Session

from domain import origination as domain
from domain.applications import LoanAsk
from domain.customers import Customer, CustomerNotFound, customer_of_user
from domain.errors import DomainError, PermissionDenied
from domain.loans import Loan
from domain.onboarding import customer_by_number
from domain.origination import LoanApplication, LoanFilter
from domain.pagination import Page
from domain.users import Role
from resolvers.context import RequestContext, Viewer
from resolvers.loaders import (
    BillsLoader,
    CustomerLoader,
    ExternalScoringLoader,
    LoanLoader,
    PaymentsLoader,
    ProductLoader,
    ScheduleLoader,
)
from resolvers.use_case import require_viewer, run_use_case

T = TypeVar("T")
NOBODY = -1  # a customer id no row has: filters a stranger's request down to nothing


def _applicant(
    viewer: Viewer, session: Session, customer_id: int | None, number: str | None
) -> Customer:
    """Whose application: staff name anyone (by id or core banking number), a customer
    only themself (naming someone else finds nobody)."""
    by_number = customer_by_number(session, number) if number is not None else None
    if viewer.role is Role.STAFF and (customer_id is not None or number is not None):
        customer = session.get(Customer, customer_id) if customer_id is not None else by_number
        if number is not None and customer is not by_number:
            customer = None
    else:
        customer = customer_of_user(session, viewer.user_id)
        if customer is not None and customer_id not in (None, customer.id):
            customer = None
        if number is not None and customer is not by_number:
            customer = None
    if customer is None:
        raise CustomerNotFound()
    return customer


def apply(
    context: RequestContext,
    ask: LoanAsk,
    key: str,
    customer_id: int | None,
    customer_number: str | None = None,
) -> LoanApplication | DomainError:
    def use_case(session: Session) -> LoanApplication:
        viewer = require_viewer(context, Role.STAFF, Role.CUSTOMER)
        customer = _applicant(viewer, session, customer_id, customer_number)
        return domain.apply_for_loan(  # keys are the sender's, staff applying for someone too
            session, customer, ask, key, context.now(), requested_by=viewer.user_id
        )

    return run_use_case(context, use_case)


def _scoped(context: RequestContext, wanted: LoanFilter) -> LoanFilter:
    """Staff see what they ask for; a customer only their own, whatever they ask."""
    viewer = require_viewer(context)
    if viewer.role is Role.STAFF:
        return wanted
    if viewer.role is not Role.CUSTOMER:
        raise PermissionDenied()
    own = customer_of_user(context.db, viewer.user_id)
    mine = own.id if own is not None else NOBODY
    return replace(wanted, customer_id=mine if wanted.customer_id in (None, mine) else NOBODY)


def _prime_loans(context: RequestContext, loans: list[Loan]) -> None:
    context.loader(LoanLoader).known(loans)
    context.loader(ScheduleLoader).prime(loan.id for loan in loans)
    context.loader(PaymentsLoader).prime(loan.id for loan in loans)
    context.loader(BillsLoader).prime(loan.id for loan in loans)
    context.loader(ProductLoader).prime(loan.product_id for loan in loans)
    context.loader(CustomerLoader).prime(loan.customer_id for loan in loans)


def loans_page(
    context: RequestContext, wanted: LoanFilter, first: int, after: int | None
) -> Page[Loan]:
    scoped = _scoped(context, wanted)
    page = domain.loans_page(context.db, scoped, first, after, context.today())
    _prime_loans(context, list(page.items))
    return page


def applications_page(
    context: RequestContext, wanted: LoanFilter, first: int, after: int | None
) -> Page[LoanApplication]:
    page = domain.applications_page(context.db, _scoped(context, wanted), first, after)
    _prime_applications(context, list(page.items))
    return page


def _prime_applications(context: RequestContext, applications: list[LoanApplication]) -> None:
    context.loader(ProductLoader).prime(a.product_id for a in applications)
    context.loader(CustomerLoader).prime(a.customer_id for a in applications)
    context.loader(LoanLoader).prime(a.loan_id for a in applications)
    context.loader(ExternalScoringLoader).prime(a.id for a in applications)


def visible_loans(context: RequestContext, ids: list[int]) -> dict[int, Loan]:
    """Loans by id that the viewer may see as a borrower's loan (providers see theirs only
    as funded loans, through their fundings)."""
    if context.viewer is None or context.viewer.role not in (Role.STAFF, Role.CUSTOMER):
        return {}
    scope = _scoped(context, LoanFilter())
    found = domain.by_ids(context.db, Loan, ids)
    if scope.customer_id is not None:
        found = {i: loan for i, loan in found.items() if loan.customer_id == scope.customer_id}
    _prime_loans(context, list(found.values()))
    return found


def visible_applications(context: RequestContext, ids: list[int]) -> dict[int, LoanApplication]:
    if context.viewer is None:
        return {}
    scope = _scoped(context, LoanFilter())
    found = domain.by_ids(context.db, LoanApplication, ids)
    if scope.customer_id is not None:
        found = {i: a for i, a in found.items() if a.customer_id == scope.customer_id}
    _prime_applications(context, list(found.values()))
    return found


def load(context: RequestContext, loader: type[T], key: int | None) -> object:
    return None if key is None else context.loader(loader).load(key)  # type: ignore[attr-defined]
