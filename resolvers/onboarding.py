"""Subscribing customers from the core banking system (STAFF only)."""

from __future__ import annotations

from domain.core_banking import CoreBankingUnavailable, KycRecord
from domain.customers import Customer
from domain.errors import DomainError
from domain.onboarding import Subscription, fetch_kyc, subscribe_customer
from domain.users import Role
from resolvers.context import RequestContext
from resolvers.use_case import outside_transaction, require_viewer, run_use_case


def subscribe(
    context: RequestContext, number: str, username: str | None, password: str | None
) -> Customer | DomainError:
    form = Subscription(number, context.cbs_currency, username, password)
    today = context.today()  # read before the transaction is ended for the CBS call

    def fetch() -> KycRecord:
        require_viewer(context, Role.STAFF)
        if context.core_banking is None:
            raise CoreBankingUnavailable("no core banking system is configured (CBS_URL)")
        return fetch_kyc(context.core_banking, form, today)

    kyc = outside_transaction(context, fetch)
    if isinstance(kyc, DomainError):
        return kyc
    return run_use_case(
        context, lambda session: subscribe_customer(session, form, kyc, context.now())
    )
