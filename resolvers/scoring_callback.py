"""What the scoring engine may read back (RULES.md §3): a subscribed customer's CBS
transaction records, for the engine's registered HTTP Basic credentials only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from domain.core_banking import CoreBanking, CoreBankingUnavailable
from domain.customers import CustomerNotFound
from domain.errors import NotAuthenticated
from domain.onboarding import customer_by_number
from domain.scoring.registration import engine_may_read


def transactions_for_engine(
    open_session: Callable[[], Session],
    core_banking: CoreBanking | None,
    credentials: tuple[str, str] | None,
    customer_number: str,
) -> list[dict[str, Any]]:
    """Raises NotAuthenticated (wrong or missing credentials), CustomerNotFound (not one of
    ours, or unknown to the CBS) or CoreBankingUnavailable. The CBS is called after the
    session is closed, so a slow CBS holds no database transaction."""
    if credentials is None:
        raise NotAuthenticated()
    with open_session() as session:
        if not engine_may_read(session, *credentials):
            raise NotAuthenticated()
        if customer_by_number(session, customer_number) is None:
            raise CustomerNotFound()
    if core_banking is None:
        raise CoreBankingUnavailable("no core banking system is configured (CBS_URL)")
    return core_banking.transactions(customer_number)
