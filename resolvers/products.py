"""The product catalogue and the P2P settings: read by anyone signed in, changed by staff."""

from __future__ import annotations

from sqlmodel import Session

from domain import products as domain
from domain.errors import DomainError
from domain.products import BankConfig, BankConfigChange, LoanProduct, NewProduct, ProductTerms
from domain.users import Role
from resolvers.context import RequestContext
from resolvers.use_case import require_viewer, run_use_case


def products(context: RequestContext) -> list[LoanProduct]:
    require_viewer(context)
    return domain.all_products(context.db)


def product(context: RequestContext, code: str) -> LoanProduct | None:
    require_viewer(context)
    try:
        return domain.product_by_code(context.db, code)
    except domain.ProductNotFound:
        return None


def bank_config(context: RequestContext) -> BankConfig:
    require_viewer(context)
    return domain.bank_config(context.db)


def create_product(context: RequestContext, new: NewProduct) -> LoanProduct | DomainError:
    def use_case(session: Session) -> LoanProduct:
        require_viewer(context, Role.STAFF)
        return domain.create_product(session, new)

    return run_use_case(context, use_case)


def update_product(
    context: RequestContext, code: str, terms: ProductTerms
) -> LoanProduct | DomainError:
    def use_case(session: Session) -> LoanProduct:
        require_viewer(context, Role.STAFF)
        return domain.update_product(session, code, terms)

    return run_use_case(context, use_case)


def update_bank_config(
    context: RequestContext, change: BankConfigChange
) -> BankConfig | DomainError:
    def use_case(session: Session) -> BankConfig:
        require_viewer(context, Role.STAFF)
        return domain.change_bank_config(session, change)

    return run_use_case(context, use_case)
