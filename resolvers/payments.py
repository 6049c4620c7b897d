"""Paying loans and reading payments and statements: customers their own, staff all;
a provider reads the payments of loans it funds through its fundings (amounts and dates)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from domain import payments as domain
from domain.billing.card_payments import statement_dues
from domain.customers import customer_of_user
from domain.errors import DomainError, FieldProblem, InvalidInput
from domain.funding import shares_of_payments
from domain.loans import Loan
from domain.origination import by_ids
from domain.payments import LoanNotFound, Payment, PaymentRequest
from domain.products import LoanProduct, RepaymentStyle
from domain.users import Role
from resolvers import loans as loan_resolvers
from resolvers.context import RequestContext
from resolvers.loaders import (
    BillsLoader,
    LoanLoader,
    PaymentsLoader,
    ProductLoader,
    ScheduleLoader,
)
from resolvers.use_case import require_viewer, run_use_case


def make_payment(context: RequestContext, request: PaymentRequest) -> Payment | DomainError:
    def use_case(session: Session) -> Payment:
        viewer = require_viewer(context, Role.STAFF, Role.CUSTOMER)
        loan = session.get(Loan, request.loan_id)
        if loan is not None and viewer.role is Role.CUSTOMER:
            own = customer_of_user(session, viewer.user_id)
            if own is None or own.id != loan.customer_id:
                loan = None  # someone else's loan is no loan to this viewer
        if loan is None:
            raise LoanNotFound()
        if viewer.role is Role.CUSTOMER and request.paid_on not in (None, context.today()):
            raise InvalidInput(
                [FieldProblem("paidOn", "only bank staff record a payment on another day")]
            )
        return domain.make_payment(
            session,
            request,
            requested_by=viewer.user_id,  # keys are the sender's, staff paying for someone too
            today=context.today(),
            now=context.now(),
        )

    return run_use_case(context, use_case)


def visible_payments(context: RequestContext, ids: list[int]) -> dict[int, Payment]:
    """Payments of the loans the viewer may see."""
    found: dict[int, Payment] = by_ids(context.db, Payment, ids)
    loans = loan_resolvers.visible_loans(context, sorted({p.loan_id for p in found.values()}))
    return {i: p for i, p in found.items() if p.loan_id in loans}


def payments_of_loan(context: RequestContext, loan: Loan) -> list[Payment]:
    """Every payment of a loan the viewer already may see, batched across the page."""
    return list(context.loader(PaymentsLoader).load(loan.id or 0) or [])


def rules_of(context: RequestContext, loan: Loan) -> domain.Rules | None:
    if loan.product_id is None:
        return None
    product: LoanProduct = context.loader(ProductLoader).load(loan.product_id)
    return domain.Rules(product.repayment_style, product.payment_rule)


def statement(
    context: RequestContext, loan: Loan, since: date | None, until: date | None
) -> domain.Statement | DomainError:
    payments = payments_of_loan(context, loan)
    product = context.loader(ProductLoader).load(loan.product_id) if loan.product_id else None
    if product is not None and product.repayment_style is RepaymentStyle.REVOLVING:
        bills = context.loader(BillsLoader).load(loan.id or 0) or []
        dues = statement_dues(loan, bills, sum(p.principal_minor for p in payments))
    else:
        dues = context.loader(ScheduleLoader).load(loan.id or 0) or []
    try:
        return domain.statement(loan, dues, payments, since, until)
    except DomainError as error:
        return error


def loan_statement(
    context: RequestContext, loan_id: int, since: date | None, until: date | None
) -> domain.Statement | DomainError:
    loan = loan_resolvers.visible_loans(context, [loan_id]).get(loan_id)
    if loan is None:
        return LoanNotFound()
    context.loader(LoanLoader).prime([loan.id])
    return statement(context, loan, since, until)


def my_shares(context: RequestContext, payments: list[Payment], provider_id: int) -> dict[int, int]:
    """A provider's share of each of these payments, for a page of them at once."""
    ids = [p.id for p in payments if p.id is not None]
    return shares_of_payments(context.db, ids, provider_id)
