"""Providers and their funds: staff register them; a provider moves only their own money."""

from __future__ import annotations

from sqlmodel import Session, select

from domain import funding
from domain import providers as domain
from domain.errors import DomainError, PermissionDenied
from domain.funding import Funding
from domain.money import Money
from domain.pagination import Page, page_by_id
from domain.products import bank_config
from domain.providers import FundsSource, Provider, ProviderNotFound, ProviderOperation
from domain.users import Role, User
from resolvers.context import RequestContext, Viewer
from resolvers.loaders import FundedTotalLoader, LoanLoader
from resolvers.use_case import require_viewer, run_use_case


def register(
    context: RequestContext, username: str, password: str, name: str
) -> Provider | DomainError:
    def use_case(session: Session) -> Provider:
        require_viewer(context, Role.STAFF)
        return domain.register_provider(
            session,
            username=username,
            password=password,
            name=name,
            currency=bank_config(session).currency,
            now=context.now(),
        )

    return run_use_case(context, use_case)


def _provider(session: Session, viewer: Viewer, provider_id: int | None) -> Provider:
    """Staff name a provider; a provider always acts for themself."""
    if viewer.role is Role.STAFF:
        found = session.get(Provider, provider_id) if provider_id is not None else None
    else:
        found = domain.provider_of_user(session, session.get(User, viewer.user_id))
        if found is not None and provider_id not in (None, found.id):
            raise PermissionDenied("A provider moves only their own funds.")
    if found is None:
        raise ProviderNotFound()
    return found


def move(
    context: RequestContext,
    *,
    kind: str,
    amount: str | None,
    source: FundsSource | None,
    key: str,
    provider_id: int | None,
) -> ProviderOperation | DomainError:
    def use_case(session: Session) -> ProviderOperation:
        viewer = require_viewer(context, Role.STAFF, Role.PROVIDER)
        if kind == "WITHDRAW" and viewer.role is Role.STAFF:
            raise PermissionDenied("Only the provider withdraws their funds.")
        provider = _provider(session, viewer, provider_id)
        return domain.move_funds(  # keys are the sender's, staff adding for a provider too
            session,
            provider,
            kind=kind,
            amount=Money.of(amount or "0", provider.currency),
            source=source,
            key=key,
            requested_by=viewer.user_id,
            now=context.now(),
        )

    return run_use_case(context, use_case)


def my_provider(context: RequestContext) -> Provider | None:
    if context.viewer is None or context.viewer.role is not Role.PROVIDER:
        return None
    return domain.provider_of_user(context.db, context.db.get(User, context.viewer.user_id))


def providers_page(context: RequestContext, first: int, after: int | None) -> Page[Provider]:
    require_viewer(context, Role.STAFF)
    return page_by_id(context.db, select(Provider), Provider.id, first, after)


def balances_of(context: RequestContext, provider: Provider) -> tuple[Money, Money]:
    return domain.balances(context.db, [provider])[provider.id or 0]


def fundings(
    context: RequestContext, provider: Provider, first: int, after: int | None
) -> Page[Funding]:
    """A provider's own fundings (the type shows them only to that provider or staff)."""
    page = funding.fundings_page(context.db, provider.id or 0, first, after)
    context.loader(LoanLoader).prime(f.loan_id for f in page.items)
    context.loader(FundedTotalLoader).prime(f.loan_id for f in page.items)
    return page


def total_funded(context: RequestContext, provider: Provider) -> Money:
    return Money.from_minor(funding.total_funded(context.db, provider.id or 0), provider.currency)


def fund_pool(context: RequestContext) -> funding.PoolTotals:
    require_viewer(context, Role.STAFF)
    return funding.pool_totals(context.db, bank_config(context.db).currency)


def provider(context: RequestContext, provider_id: int | None) -> Provider | None:
    viewer = context.viewer
    if viewer is None or provider_id is None:
        return None
    row = context.db.get(Provider, provider_id)
    if row is None or (viewer.role is not Role.STAFF and row.user_id != viewer.user_id):
        return None
    return row
