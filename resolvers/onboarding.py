"""Subscribing customers from the core banking system (STAFF only)."""

from __future__ import annotations

from sqlmodel import Session

from domain.core_banking import CoreBankingUnavailable
from domain.customers import Customer
from domain.errors import DomainError
from domain.onboarding import Subscription, subscribe_customer
from domain.users import Role
from resolvers.context import RequestContext
from resolvers.use_case import require_viewer, run_use_case


def subscribe(
    context: RequestContext, number: str, username: str | None, password: str | None
) -> Customer | DomainError:
    def use_case(session: Session) -> Customer:
        require_viewer(context, Role.STAFF)
        if context.core_banking is None:
            raise CoreBankingUnavailable("no core banking system is configured (CBS_URL)")
        form = Subscription(number, context.cbs_currency, username, password)
        return subscribe_customer(session, context.core_banking, form, context.now())

    return run_use_case(context, use_case)
