"""The core banking system (CBS): where a bank keeps its customers' KYC and account
transactions (RULES.md §3). Lendgraph reads it through the `CoreBanking` port."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from domain.errors import DomainError


@dataclass(frozen=True)
class KycRecord:
    """A customer as the core banking system knows them (its `customer` record)."""

    customer_number: str
    first_name: str
    last_name: str
    monthly_income: Decimal
    middle_name: str | None = None
    email: str | None = None
    mobile: str | None = None
    date_of_birth: date | None = None
    gender: str | None = None  # MALE / FEMALE
    id_number: str | None = None
    id_type: str | None = None  # PASSPORT / NATIONAL_ID / DRIVERS_LICENSE / VOTERS_ID
    status: str | None = None  # ACTIVE / INACTIVE


class CoreBanking(Protocol):
    """KYC and transactions by customer number. Raises the errors below, nothing else."""

    def customer(self, customer_number: str) -> KycRecord: ...

    def transactions(self, customer_number: str) -> list[dict[str, Any]]:
        """The customer's transaction records, JSON-ready, with the CBS's own field names
        (`accountNumber`, `credittransactionsAmount`, ...; datetimes as ISO 8601 strings)."""
        ...


class CustomerNotInCoreBanking(DomainError):
    code = "CUSTOMER_NOT_IN_CORE_BANKING"

    def __init__(self, customer_number: str) -> None:
        super().__init__(f"The core banking system knows no customer {customer_number}.")
        self.customer_number = customer_number


class CoreBankingUnavailable(DomainError):
    code = "CORE_BANKING_UNAVAILABLE"

    def __init__(self, detail: str) -> None:
        super().__init__(f"The core banking system could not be reached: {detail}")
        self.detail = detail


class CoreBankingReplyMalformed(CoreBankingUnavailable):
    """The CBS answered, but not with what its WSDL promises."""

    code = "CORE_BANKING_BAD_REPLY"
