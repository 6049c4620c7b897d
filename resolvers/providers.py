"""Providers and their funds: staff register them; a provider moves only their own money."""

from __future__ import annotations

from sqlmodel import Session, select

from domain import providers as domain
from domain.errors import DomainError, PermissionDenied
from domain.money import Money
from domain.pagination import Page, page_by_id
from domain.products import bank_config
from domain.providers import FundsSource, Provider, ProviderNotFound, ProviderOperation
from domain.users import Role, User
from resolvers.context import RequestContext
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


def _provider(session: Session, context: RequestContext, provider_id: int | None) -> Provider:
    """Staff name a provider; a provider always acts for themself."""
    viewer = require_viewer(context, Role.STAFF, Role.PROVIDER)
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
        if kind == "WITHDRAW" and context.viewer and context.viewer.role is Role.STAFF:
            raise PermissionDenied("Only the provider withdraws their funds.")
        provider = _provider(session, context, provider_id)
        return domain.move_funds(
            session,
            provider,
            kind=kind,
            amount=Money.of(amount or "0", provider.currency),
            source=source,
            key=key,
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
