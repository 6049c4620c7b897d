"""Subscribing customers from their core banking KYC record (RULES.md §3)."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session

from domain.core_banking import KycRecord
from domain.onboarding import (
    CustomerAlreadySubscribed,
    KycUnusable,
    Subscription,
    fetch_kyc,
    subscribe_customer,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KYC = KycRecord(
    customer_number="234774784",
    first_name="Wanjiru",
    last_name="Kamau",
    monthly_income=Decimal("85000.126"),
    email="wanjiru.kamau@example.co.ke",
    mobile="+254 712 345 678",
    date_of_birth=date(1988, 3, 14),
    id_number="28473615",
    id_type="NATIONAL_ID",
    status="ACTIVE",
)
FORM = Subscription("234774784", "KES")


class OneCustomer:
    """A core banking system that knows one customer."""

    def __init__(self, kyc: KycRecord) -> None:
        self.kyc = kyc

    def customer(self, customer_number: str) -> KycRecord:
        return self.kyc

    def transactions(self, customer_number: str) -> list[dict[str, Any]]:
        return []


def test_the_customer_is_made_from_the_kyc_record(session: Session) -> None:
    kyc = fetch_kyc(OneCustomer(KYC), FORM, NOW.date())

    customer = subscribe_customer(session, FORM, kyc, NOW)

    assert customer.customer_number == "234774784" and customer.phone == "+254712345678"
    assert customer.monthly_income.amount == Decimal("85000.13")  # half-up to the cent
    assert customer.age == 38 and customer.national_id_verified
    assert customer.approved_limit.amount == Decimal("3100000.00")  # 36 × income, to the lakh
    with pytest.raises(CustomerAlreadySubscribed):
        subscribe_customer(session, FORM, kyc, NOW)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"monthly_income": Decimal("NaN")}, "monthlyIncome"),
        ({"monthly_income": Decimal("Infinity")}, "monthlyIncome"),
        ({"monthly_income": Decimal("0.004")}, "monthlyIncome"),
        ({"mobile": "+2547123456789012345"}, "phone"),
        ({"mobile": None}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"date_of_birth": None}, "dob"),
        ({"date_of_birth": date(2015, 1, 1)}, "age"),
        ({"first_name": ""}, "firstName"),
        ({"id_number": "9" * 65}, "idNumber"),
    ],
)
def test_a_record_that_cannot_be_lent_on_is_refused_with_the_field(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(KycUnusable) as refused:
        fetch_kyc(OneCustomer(replace(KYC, **change)), FORM, NOW.date())
    assert field in [problem.field for problem in refused.value.problems]
