"""The SOAP core banking adapter against the CBS simulator, over real sockets."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from lxml import etree

from domain.core_banking import (
    CoreBankingReplyMalformed,
    CoreBankingUnavailable,
    CustomerNotInCoreBanking,
)
from integrations.cbs.client import SoapCoreBanking
from integrations.cbs.customers import REFERENCE_CUSTOMERS, kyc_of, transactions_of
from integrations.cbs.simulator import create_cbs_simulator
from tests.live_server import LiveServer, free_port

USERNAME, PASSWORD = "lendgraph", "cbs-test-password"
GENERATED = 5
TRANSACTION_WSDL = Path(__file__).parents[2] / "integrations/cbs/wsdl/transaction.wsdl"
XSD = {"xs": "http://www.w3.org/2001/XMLSchema"}


@pytest.fixture(scope="module")
def cbs() -> Iterator[LiveServer]:
    app = create_cbs_simulator(USERNAME, PASSWORD, generated=GENERATED)
    with LiveServer(app) as server:
        yield server


@pytest.fixture(autouse=True)
def healthy(cbs: LiveServer) -> Iterator[None]:
    """Every test starts, and leaves, the simulator answering normally."""
    httpx.post(f"{cbs.url}/_control", json={"mode": "ok", "delaySeconds": 0}).raise_for_status()
    yield
    httpx.post(f"{cbs.url}/_control", json={"mode": "ok", "delaySeconds": 0}).raise_for_status()


@pytest.fixture
def core_banking(cbs: LiveServer) -> SoapCoreBanking:
    return SoapCoreBanking(cbs.url, USERNAME, PASSWORD, timeout=2.0)


def misbehave(cbs: LiveServer, mode: str, delay: float = 0.0) -> None:
    response = httpx.post(f"{cbs.url}/_control", json={"mode": mode, "delaySeconds": delay})
    response.raise_for_status()


def wsdl_transaction_fields() -> set[str]:
    tree = etree.parse(str(TRANSACTION_WSDL))
    names = tree.xpath(
        "//xs:complexType[@name='transactionData']/xs:sequence/xs:element/@name", namespaces=XSD
    )
    return {str(name) for name in names}


def test_kyc_of_a_reference_customer_comes_back_with_names_income_and_birth_date(
    core_banking: SoapCoreBanking,
) -> None:
    kyc = core_banking.customer("234774784")

    assert kyc.customer_number == "234774784"
    assert (kyc.first_name, kyc.middle_name, kyc.last_name) == ("Wanjiru", "Njeri", "Kamau")
    assert kyc.monthly_income == Decimal("85000")
    assert isinstance(kyc.monthly_income, Decimal)
    assert kyc.date_of_birth == date(1988, 3, 14)
    assert (kyc.id_type, kyc.status, kyc.gender) == ("NATIONAL_ID", "ACTIVE", "FEMALE")
    assert kyc.mobile is not None
    assert kyc.mobile.startswith("+2547")
    assert len(kyc.mobile) <= 16


def test_every_reference_customer_is_known(core_banking: SoapCoreBanking) -> None:
    for number in REFERENCE_CUSTOMERS:
        assert core_banking.customer(number).customer_number == number


def test_an_unknown_customer_number_is_not_in_core_banking(core_banking: SoapCoreBanking) -> None:
    with pytest.raises(CustomerNotInCoreBanking) as raised:
        core_banking.customer("100000000")

    assert raised.value.customer_number == "100000000"


def test_an_unknown_customer_has_no_transactions(core_banking: SoapCoreBanking) -> None:
    assert core_banking.transactions("100000000") == []


def test_transactions_carry_exactly_the_wsdl_field_names_json_ready(
    core_banking: SoapCoreBanking,
) -> None:
    records = core_banking.transactions("318411216")

    assert 3 <= len(records) <= 6
    for record in records:
        assert set(record) == wsdl_transaction_fields()
        assert all(value is not None for value in record.values())
        assert isinstance(record["createdAt"], str)
        assert isinstance(record["monthlyBalance"], float)
        assert isinstance(record["bouncedChequesDebitNumber"], int)


@pytest.mark.parametrize(
    ("number", "scores", "limit", "excluded"),
    [
        ("234774784", range(564, 565), 30_000, False),
        ("318411216", range(600, 901), 50_000, False),
        ("340397370", range(300, 901), 10_000, False),
        ("366585630", range(300, 901), 40_000, True),
        ("397178638", range(300, 901), 20_000, False),
    ],
)
def test_reference_transactions_lead_the_scoring_engine_to_the_documented_answers(
    core_banking: SoapCoreBanking, number: str, scores: range, limit: int, excluded: bool
) -> None:
    records = core_banking.transactions(number)

    # The scoring engine simulator's rules, restated: see integrations/cbs/customers.py.
    mean_balance = sum(r["monthlyBalance"] for r in records) / len(records)
    mean_credit = sum(r["credittransactionsAmount"] for r in records) / len(records)
    assert min(max(300 + math.floor(mean_balance / 1000), 300), 900) in scores
    assert math.floor(mean_credit * 0.5 / 1000) * 1000 == limit
    assert (sum(r["bouncedChequesDebitNumber"] for r in records) >= 3) is excluded


def test_a_wrong_password_is_refused_as_core_banking_unavailable(cbs: LiveServer) -> None:
    intruder = SoapCoreBanking(cbs.url, USERNAME, "not-the-password", timeout=2.0)

    with pytest.raises(CoreBankingUnavailable, match="authentication failed"):
        intruder.customer("234774784")


def test_a_closed_port_is_core_banking_unavailable_without_waiting() -> None:
    nobody_home = SoapCoreBanking(f"http://127.0.0.1:{free_port()}", USERNAME, PASSWORD, 5.0)
    started = time.monotonic()

    with pytest.raises(CoreBankingUnavailable):
        nobody_home.transactions("234774784")

    assert time.monotonic() - started < 2.0


def test_a_server_slower_than_the_timeout_is_core_banking_unavailable(cbs: LiveServer) -> None:
    impatient = SoapCoreBanking(cbs.url, USERNAME, PASSWORD, timeout=0.5)
    impatient.customer("234774784")  # the WSDL is parsed before the server turns slow
    misbehave(cbs, "ok", delay=2.0)
    started = time.monotonic()

    with pytest.raises(CoreBankingUnavailable):
        impatient.customer("234774784")

    assert time.monotonic() - started < 1.5


def test_a_server_answering_503_is_core_banking_unavailable(
    cbs: LiveServer, core_banking: SoapCoreBanking
) -> None:
    misbehave(cbs, "down")

    with pytest.raises(CoreBankingUnavailable, match="503"):
        core_banking.customer("234774784")


def test_a_garbled_reply_is_malformed_not_merely_unavailable(
    cbs: LiveServer, core_banking: SoapCoreBanking
) -> None:
    misbehave(cbs, "garbled")

    with pytest.raises(CoreBankingReplyMalformed):
        core_banking.transactions("234774784")


def test_a_soap_fault_is_core_banking_unavailable(
    cbs: LiveServer, core_banking: SoapCoreBanking
) -> None:
    misbehave(cbs, "fault")

    with pytest.raises(CoreBankingUnavailable) as raised:
        core_banking.customer("234774784")

    assert not isinstance(raised.value, CoreBankingReplyMalformed)


def test_the_adapter_recovers_once_the_server_does(
    cbs: LiveServer, core_banking: SoapCoreBanking
) -> None:
    misbehave(cbs, "down")
    with pytest.raises(CoreBankingUnavailable):
        core_banking.customer("397178638")
    misbehave(cbs, "ok")

    assert core_banking.customer("397178638").first_name == "Mwende"


@pytest.mark.parametrize("path", ["/service/customer?wsdl", "/service/customer.wsdl"])
def test_the_served_wsdl_points_at_the_address_it_was_fetched_from(
    cbs: LiveServer, path: str
) -> None:
    response = httpx.get(f"{cbs.url}{path}")

    tree = etree.fromstring(response.content)
    address = tree.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert response.status_code == 200
    assert address is not None
    assert address.get("location") == f"{cbs.url}/service/customer"


def test_the_control_endpoint_reports_the_current_behaviour(cbs: LiveServer) -> None:
    misbehave(cbs, "fault", delay=0.25)

    assert httpx.get(f"{cbs.url}/_control").json() == {"mode": "fault", "delaySeconds": 0.25}
    assert httpx.get(f"{cbs.url}/healthz").status_code == 200


def test_generated_customers_exist_up_to_the_requested_count(
    core_banking: SoapCoreBanking,
) -> None:
    last = str(500_000_000 + GENERATED)

    assert core_banking.customer("500000001").customer_number == "500000001"
    assert core_banking.customer(last).first_name
    assert 3 <= len(core_banking.transactions(last)) <= 6
    with pytest.raises(CustomerNotInCoreBanking):
        core_banking.customer(str(500_000_001 + GENERATED))


def test_generated_customers_are_the_same_on_every_run(core_banking: SoapCoreBanking) -> None:
    assert kyc_of("500000003", GENERATED) == kyc_of("500000003", GENERATED)
    assert transactions_of("500000003", GENERATED) == transactions_of("500000003", GENERATED)
    assert core_banking.customer("500000003") == core_banking.customer("500000003")
    assert core_banking.transactions("500000003") == core_banking.transactions("500000003")


def test_generated_customers_stay_below_the_bounced_cheques_exclusion() -> None:
    for offset in range(1, 201):
        records = transactions_of(str(500_000_000 + offset), generated=200)
        assert sum(r["bouncedChequesDebitNumber"] for r in records) < 3
