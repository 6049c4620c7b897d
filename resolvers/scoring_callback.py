"""What the scoring engine may read back (RULES.md §3): a subscribed customer's CBS
transaction records, for the engine's registered HTTP Basic credentials only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from sqlmodel import Session

from domain.core_banking import CoreBanking, CoreBankingUnavailable
from domain.customers import CustomerNotFound
from domain.errors import NotAuthenticated
from domain.external_decisions import note_transactions_unavailable
from domain.onboarding import customer_by_number
from domain.scoring.registration import engine_may_read
from domain.tables import utcnow

log = structlog.get_logger(__name__)


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
    try:
        if core_banking is None:
            raise CoreBankingUnavailable("no core banking system is configured (CBS_URL)")
        return core_banking.transactions(customer_number)
    except CoreBankingUnavailable as error:
        _note_failure(open_session, customer_number, error)
        raise


def _note_failure(
    open_session: Callable[[], Session], customer_number: str, error: CoreBankingUnavailable
) -> None:
    """Note on the customer's scorings under way that the engine's read failed at our core
    banking lookup (their lastError then names it); never hides the CBS error itself."""
    try:
        with open_session() as session:
            note_transactions_unavailable(session, customer_number, error.detail, utcnow())
            session.commit()
    except Exception:
        log.warning(
            "transactions_failure_not_noted", customer_number=customer_number, exc_info=True
        )
