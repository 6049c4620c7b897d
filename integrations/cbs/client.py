"""The `CoreBanking` port over the bank's SOAP services: KYC from `Customer`, monthly account
aggregates from `Transactions`, every transport or protocol failure turned into a domain error."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
import zeep
from lxml.etree import XMLSyntaxError
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError, ValidationError, XMLParseError
from zeep.helpers import serialize_object
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from domain.core_banking import (
    CoreBankingReplyMalformed,
    CoreBankingUnavailable,
    CustomerNotInCoreBanking,
    KycRecord,
)

WSDL_DIR = Path(__file__).parent / "wsdl"
CUSTOMER_BINDING = "{http://credable.io/cbs/customer}CustomerPortSoap11"
TRANSACTION_BINDING = "{http://credable.io/cbs/transaction}TransactionDataPortSoap11"
# Where the reference WSDLs put the two services; a bank may put them elsewhere (settings).
DEFAULT_PATHS = ("/service/customer", "/service/transaction-data")


class SoapCoreBanking:
    """Reads the CBS over SOAP 1.1 with a WS-Security UsernameToken (PasswordText)."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        timeout: float = 10.0,
        *,
        paths: tuple[str, str] = DEFAULT_PATHS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.paths = dict(zip(("customer", "transaction"), paths, strict=True))
        self.username = username
        self.password = password
        self.timeout = timeout
        self._services: dict[str, Any] = {}
        self._lock = threading.Lock()

    def customer(self, customer_number: str) -> KycRecord:
        with _translated_failures():
            reply = self._service("customer").Customer(customerNumber=customer_number)
            record = _plain(reply)
        # The CBS answers an unknown number with an empty customer element.
        if isinstance(record, dict) and "customer" in record:
            record = record["customer"]
        if not isinstance(record, dict) or not record.get("customerNumber"):
            raise CustomerNotInCoreBanking(customer_number)
        return _kyc(record)

    def transactions(self, customer_number: str) -> list[dict[str, Any]]:
        with _translated_failures():
            reply = self._service("transaction").Transactions(customerNumber=customer_number)
            records = _plain(reply)
        if isinstance(records, dict):
            records = records.get("transactions")
        return [_json_ready(record) for record in records or []]

    def _service(self, name: str) -> Any:
        """The zeep service proxy, built once: parsing a WSDL costs more than a call."""
        with self._lock:
            if name not in self._services:
                self._services[name] = self._build(name)
            return self._services[name]

    # zeep ships without type annotations, hence the ignores on its calls.
    def _build(self, name: str) -> Any:
        binding = CUSTOMER_BINDING if name == "customer" else TRANSACTION_BINDING
        transport = Transport(timeout=self.timeout, operation_timeout=self.timeout)  # type: ignore[no-untyped-call]
        wsse = UsernameToken(self.username, self.password)  # type: ignore[no-untyped-call]
        client = zeep.Client(str(WSDL_DIR / f"{name}.wsdl"), transport=transport, wsse=wsse)  # type: ignore[no-untyped-call]
        return client.create_service(binding, self.base_url + self.paths[name])  # type: ignore[no-untyped-call]


@contextmanager
def _translated_failures() -> Iterator[None]:
    """Only the port's errors leave this adapter (domain/core_banking.py)."""
    try:
        yield
    except requests.RequestException as exc:
        raise CoreBankingUnavailable(f"{type(exc).__name__}: {exc}") from exc
    except Fault as exc:
        raise CoreBankingUnavailable(f"SOAP fault {exc.code}: {exc.message}") from exc
    except TransportError as exc:
        # A success status with a body that is not SOAP is a broken reply; anything else
        # (503 from a gateway, 404 from a wrong base URL) means the CBS is not there for us.
        if 200 <= exc.status_code < 300:
            raise CoreBankingReplyMalformed(f"HTTP {exc.status_code} without SOAP") from exc
        raise CoreBankingUnavailable(f"HTTP {exc.status_code}") from exc
    except (XMLSyntaxError, XMLParseError, ValidationError, ZeepError, ValueError) as exc:
        raise CoreBankingReplyMalformed(f"{type(exc).__name__}: {exc}") from exc


def _plain(reply: Any) -> Any:
    """zeep's objects as plain dicts and lists."""
    return serialize_object(reply, dict)  # type: ignore[no-untyped-call]


def _kyc(record: dict[str, Any]) -> KycRecord:
    income, dob = record.get("monthlyIncome"), record.get("dob")
    if income is None:
        raise CoreBankingReplyMalformed("customer without monthlyIncome")
    return KycRecord(
        customer_number=str(record["customerNumber"]),
        first_name=record.get("firstName") or "",
        last_name=record.get("lastName") or "",
        middle_name=record.get("middleName"),
        monthly_income=Decimal(str(income)),
        email=record.get("email"),
        mobile=record.get("mobile"),
        date_of_birth=_date(dob),
        gender=record.get("gender"),
        id_number=record.get("idNumber"),
        id_type=record.get("idType"),
        status=record.get("status"),
    )


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _json_ready(record: dict[str, Any]) -> dict[str, Any]:
    return {
        field: value.isoformat() if isinstance(value, date) else value
        for field, value in record.items()
    }
