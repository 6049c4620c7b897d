"""Eligibility through the API: every worked number of RULES.md §1, §2, §4, §5, and §3's
pending decision."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlmodel import select
from strawberry.relay import GlobalID

from domain.customers import Customer
from domain.importing_runs import ImportKind
from domain.users import Role
from integrations.sample_files import CUSTOMER_HEADERS, LOAN_HEADERS
from tests.live_server import GraphQLClient, LiveServer
from workers.importing import run_import

ELIGIBILITY = """
query($input: EligibilityInput!) {
  eligibility(input: $input) {
    __typename
    ... on Eligibility { outcome approval interestRate correctedInterestRate tenure
      installment { amount currency } creditScore reasons { code message }
      schedule { number interest { amount } total { amount } } }
    ... on Error { code message }
  }
}
"""
PAST = (date(2015, 1, 1), date(2016, 1, 1))


def ask(
    client: GraphQLClient, token: str, customer: str | None = None, **request: Any
) -> dict[str, Any]:
    payload = {**request, **({"customerId": customer} if customer else {})}
    return client.execute(ELIGIBILITY, {"input": payload}, token=token).data["eligibility"]


@pytest.fixture
def staff(make_user: Any, login: Any) -> str:
    make_user("boss", Role.STAFF)
    return str(login("boss")["accessToken"])


@pytest.fixture
def history(server: LiveServer, tmp_path: Path) -> dict[str, str]:
    """Customers whose loan histories put them in each slab of RULES.md §1."""
    people = [
        (1, "None", 50000),
        (2, "Strong", 50000),
        (3, "Patchy", 50000),
        (4, "Poor", 50000),
        (5, "Stretched", 10000),
    ]
    loans = [(2, 100 + n, 400000, 12, 9, 34981.0, 12, *PAST) for n in range(5)]
    loans += [(3, 200, 100000, 12, 9, 8745.0, 6, *PAST), (4, 300, 100000, 12, 9, 8745.0, 0, *PAST)]
    customers_book, loans_book = Workbook(), Workbook()
    customers_book.active.append(CUSTOMER_HEADERS)
    for legacy, name, salary in people:
        customers_book.active.append(
            (legacy, name, "Test", 35, f"97000000{legacy:02d}", salary, salary * 36)
        )
    loans_book.active.append(LOAN_HEADERS)
    for row in loans:
        loans_book.active.append(row)
    customers_book.save(tmp_path / "c.xlsx")
    loans_book.save(tmp_path / "l.xlsx")
    sessions = server.runtime.session_factory
    run_import(sessions, ImportKind.CUSTOMERS, tmp_path / "c.xlsx")
    run_import(sessions, ImportKind.LOANS, tmp_path / "l.xlsx")
    with sessions() as session:
        rows = session.exec(select(Customer)).all()
        return {c.first_name: str(GlobalID("Customer", str(c.id))) for c in rows}


@pytest.mark.parametrize(
    ("who", "score_range", "corrected", "installment"),
    [
        ("Strong", (51, 100), "8.12", "10447.88"),
        ("None", (31, 50), "12", "10664.52"),
        ("Patchy", (11, 30), "16", "10890.42"),
    ],
)
def test_loan_history_slabs_correct_the_rate_and_price_the_emi(
    client: GraphQLClient,
    staff: str,
    history: dict[str, str],
    who: str,
    score_range: tuple[int, int],
    corrected: str,
    installment: str,
) -> None:
    result = ask(
        client,
        staff,
        history[who],
        productCode="PERSONAL_EMI",
        amount="120030",
        interestRate="8.12",
        tenure=12,
    )
    assert result["outcome"] == "APPROVED", result
    assert score_range[0] <= result["creditScore"] <= score_range[1]
    assert (result["interestRate"], result["correctedInterestRate"]) == ("8.12", corrected)
    assert result["installment"] == {"amount": installment, "currency": "INR"}
    assert len(result["schedule"]) == 12


def test_a_score_of_10_or_less_is_rejected(
    client: GraphQLClient, staff: str, history: dict[str, str]
) -> None:
    result = ask(
        client,
        staff,
        history["Poor"],
        productCode="PERSONAL_EMI",
        amount="120030",
        interestRate="8.12",
        tenure=12,
    )
    assert result["outcome"] == "REJECTED"
    assert [r["code"] for r in result["reasons"]] == ["CREDIT_SCORE_TOO_LOW"]
    assert result["installment"] is None


def test_a_refused_request_quotes_no_installment_but_keeps_its_schedule(
    client: GraphQLClient, staff: str, history: dict[str, str]
) -> None:
    # given a salary of 10,000 and a request whose EMI (10,664.52) is above half of it
    request = {"productCode": "PERSONAL_EMI", "amount": "120030", "interestRate": "12"}
    # when the stretched customer asks
    result = ask(client, staff, history["Stretched"], tenure=12, **request)
    # then nothing is quoted as an installment, yet the dues the rule was checked on are shown
    assert (result["outcome"], result["approval"]) == ("REJECTED", False)
    assert result["installment"] is None
    assert result["schedule"][0]["total"]["amount"] == "10664.52"


def test_emis_above_half_the_salary_are_rejected(
    client: GraphQLClient, staff: str, history: dict[str, str]
) -> None:
    result = ask(
        client,
        staff,
        history["Stretched"],
        productCode="PERSONAL_EMI",
        amount="120030",
        interestRate="12",
        tenure=12,
    )
    assert [r["code"] for r in result["reasons"]] == ["EMI_ABOVE_HALF_OF_SALARY"]
    assert "10664.52" in result["reasons"][0]["message"]


@pytest.fixture
def card_holder(client: GraphQLClient, server: LiveServer, staff: str, tmp_path: Path) -> str:
    aadhar = "5f0e8a7e-0c4b-4c1e-9a43-1b2c3d4e5f60"
    created = client.execute(
        'mutation($id: String!) { registerCustomer(input: {firstName: "Card", lastName: "Holder",'
        ' phone: "+919811100000", age: 40, annualIncome: "600000", nationalId: $id}) '
        "{ ... on RegisterCustomerSuccess { customer { id } } } }",
        {"id": aadhar},
        token=staff,
    ).data["registerCustomer"]["customer"]["id"]
    (tmp_path / "t.csv").write_text(
        f"user,date,transaction_type,amount\n"
        f"{aadhar},2026-01-02,CREDIT,600000\n"
        f"{aadhar},2026-01-03,DEBIT,31550\n"
    )
    run_import(
        server.runtime.session_factory,
        ImportKind.TRANSACTIONS,
        tmp_path / "t.csv",
        server.runtime.dispatcher.dispatch,
    )
    server.settle()
    return str(created)


def test_credit_card_first_bill_decides_the_card(
    client: GraphQLClient, staff: str, card_holder: str
) -> None:
    approved = ask(
        client,
        staff,
        card_holder,
        productCode="CREDIT_CARD",
        amount="5000",
        interestRate="12.5",
        tenure=12,
    )
    assert approved["outcome"] == "APPROVED" and approved["creditScore"] == 670
    assert approved["installment"]["amount"] == "201.00"
    assert approved["schedule"][0]["interest"]["amount"] == "51.00"
    too_little = ask(
        client,
        staff,
        card_holder,
        productCode="CREDIT_CARD",
        amount="5000",
        interestRate="12",
        tenure=12,
    )
    assert [r["code"] for r in too_little["reasons"]] == ["FIRST_INTEREST_TOO_SMALL"]
    assert "49.50" in too_little["reasons"][0]["message"]
    assert too_little["installment"] is None


def test_a_card_failing_three_rules_lists_all_three(
    client: GraphQLClient, staff: str, history: dict[str, str]
) -> None:
    # no transaction score, 120,000 a year, APR 10.5 %
    result = ask(
        client,
        staff,
        history["Stretched"],
        productCode="CREDIT_CARD",
        amount="50000",
        interestRate="10.5",
        tenure=12,
    )
    codes = {r["code"] for r in result["reasons"]}
    assert {"NO_CREDIT_SCORE", "INCOME_TOO_LOW", "RATE_TOO_LOW"} <= codes
    assert result["outcome"] == "REJECTED"


def test_provider_loans_use_the_bank_config(
    client: GraphQLClient, staff: str, history: dict[str, str]
) -> None:
    fine = ask(client, staff, history["None"], productCode="P2P_FLAT", amount="1000")
    assert (fine["outcome"], fine["installment"]["amount"]) == ("APPROVED", "1050.00")
    assert (fine["correctedInterestRate"], fine["tenure"]) == ("5", 365)
    too_big = ask(client, staff, history["None"], productCode="P2P_FLAT", amount="20000")
    assert too_big["reasons"][0]["code"] == "AMOUNT_OUT_OF_RANGE"
    assert "100.00 INR and 10000.00 INR" in too_big["reasons"][0]["message"]


def test_weekly_flat_loan_installments(
    client: GraphQLClient, staff: str, history: dict[str, str]
) -> None:
    result = ask(
        client, staff, history["None"], productCode="WEEKLY_FLAT", amount="5000000", tenure=50
    )
    assert result["installment"] == {"amount": "110000.00", "currency": "IDR"}
    assert len(result["schedule"]) == 50


def test_externally_scored_requests_wait_for_the_score(
    client: GraphQLClient, staff: str, history: dict[str, str]
) -> None:
    result = ask(
        client, staff, history["None"], productCode="SCORED_MICRO", amount="5000", tenure=30
    )
    assert result["outcome"] == "PENDING"
    assert result["reasons"][0]["code"] == "AWAITING_EXTERNAL_SCORE"
    assert result["installment"] is None  # not approved yet
    assert len(result["schedule"]) == 1


def test_who_may_ask_for_whom(
    client: GraphQLClient, history: dict[str, str], make_user: Any, login: Any
) -> None:
    request = {"productCode": "PERSONAL_EMI", "amount": "50000", "tenure": 12}
    anonymous = client.execute(ELIGIBILITY, {"input": request}).data["eligibility"]
    assert anonymous["code"] == "NOT_AUTHENTICATED"
    client.execute(
        'mutation { registerCustomer(input: {firstName: "Self", lastName: "Asker", '
        'phone: "+919855500000", age: 30, monthlyIncome: "40000", username: "self", '
        'password: "a long password"}) { __typename } }'
    )
    token = login("self", "a long password")["accessToken"]
    own = ask(client, token, **request)
    assert own["__typename"] == "Eligibility"
    other = ask(client, token, history["Strong"], **request)
    assert other["code"] == "CUSTOMER_NOT_FOUND"
    unknown = ask(client, token, productCode="NOPE", amount="1")
    assert unknown["code"] == "PRODUCT_NOT_FOUND"


def test_rules_section_1_emi_of_100000_at_10_percent(
    client: GraphQLClient, staff: str, history: dict[str, str]
) -> None:
    result = ask(
        client,
        staff,
        history["Strong"],
        productCode="PERSONAL_EMI",
        amount="100000",
        interestRate="10",
        tenure=12,
    )
    assert result["installment"]["amount"] == "8791.59"


def test_every_credit_card_failure_is_listed_even_beyond_the_limits(
    client: GraphQLClient, staff: str, history: dict[str, str], card_holder: str
) -> None:
    over = ask(
        client,
        staff,
        history["Stretched"],
        productCode="CREDIT_CARD",
        amount="60000",
        interestRate="10",
        tenure=12,
    )
    codes = {r["code"] for r in over["reasons"]}
    assert {"AMOUNT_OUT_OF_RANGE", "NO_CREDIT_SCORE", "INCOME_TOO_LOW", "RATE_TOO_LOW"} <= codes
    low_apr = ask(
        client,
        staff,
        card_holder,
        productCode="CREDIT_CARD",
        amount="50000",
        interestRate="10.5",
        tenure=12,
    )
    assert [r["code"] for r in low_apr["reasons"]] == ["RATE_TOO_LOW"]
    assert low_apr["installment"] is None  # refused: no installment is quoted
    assert low_apr["schedule"][0]["total"]["amount"] == "1935.00"
    assert low_apr["schedule"][0]["interest"]["amount"] == "435.00"
    at_12 = ask(
        client,
        staff,
        card_holder,
        productCode="CREDIT_CARD",
        amount="5000",
        interestRate="12",
        tenure=12,
    )
    assert at_12["installment"] is None  # refused (first interest 49.50 is not above 50)
    assert at_12["schedule"][0]["total"]["amount"] == "199.50"


def test_p2p_loans_follow_the_pool_terms_after_staff_change_them(
    client: GraphQLClient, staff: str, history: dict[str, str]
) -> None:
    client.execute(
        'mutation { updateBankConfig(input: {durationDays: 180, interestRate: "6"})'
        " { __typename } }",
        token=staff,
    )
    result = ask(client, staff, history["None"], productCode="P2P_FLAT", amount="1000")
    assert (result["outcome"], result["tenure"]) == ("APPROVED", 180)
    assert result["installment"]["amount"] == "1060.00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "1" + "0" * 30}, "amount"),  # a decimal, but beyond what the books hold
        ({"interestRate": "8.12345"}, "interestRate"),
        ({"disbursementDate": "9990-01-01"}, "disbursementDate"),
        ({"disbursementDate": "1901-01-01"}, "disbursementDate"),
        ({"tenure": 0}, "tenure"),
    ],
)
def test_bad_requests_are_typed_errors(
    client: GraphQLClient, staff: str, history: dict[str, str], change: dict[str, Any], field: str
) -> None:
    request = {"productCode": "PERSONAL_EMI", "amount": "50000", "tenure": 12, **change}
    query = ELIGIBILITY.replace(
        "... on Error { code message }", "... on InvalidInputError { code fields { field } }"
    )
    result = client.execute(
        query, {"input": {**request, "customerId": history["None"]}}, token=staff
    ).data["eligibility"]
    assert result["code"] == "INVALID_INPUT"
    assert field in {f["field"] for f in result["fields"]}


def test_income_based_products_need_income_in_their_currency(
    client: GraphQLClient, staff: str
) -> None:
    kes = client.execute(
        'mutation { registerCustomer(input: {firstName: "Wanjiru", lastName: "K", phone: '
        '"+254700000001", age: 30, monthlyIncome: "90000", currency: "KES"}) '
        "{ ... on RegisterCustomerSuccess { customer { id } } } }",
        token=staff,
    ).data["registerCustomer"]["customer"]["id"]
    result = ask(client, staff, kes, productCode="PERSONAL_EMI", amount="50000", tenure=12)
    assert result["code"] == "INVALID_INPUT" and "INR" in result["message"]


def test_providers_may_not_ask_for_eligibility(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("prov", Role.PROVIDER)
    result = ask(client, login("prov")["accessToken"], productCode="P2P_FLAT", amount="1000")
    assert result["code"] == "PERMISSION_DENIED"
