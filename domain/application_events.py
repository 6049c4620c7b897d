"""Events about loan applications, for subscribers: raised whenever an application is stored
or its status changes (PENDING, then APPROVED, REJECTED or FAILED), through the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from domain.outbox import emit_event

if TYPE_CHECKING:
    from domain.origination import LoanApplication

APPLICATION_UPDATED = "applicationUpdated"


def announce_application(
    session: Session, application: LoanApplication, product_code: str, at: datetime
) -> None:
    emit_event(
        session,
        APPLICATION_UPDATED,
        applicationId=application.id,
        customerId=application.customer_id,
        productCode=product_code,
        status=application.status.value,
        loanId=application.loan_id,
        reasons=list(application.reasons),
        occurredAt=at.isoformat(),
    )
