"""Staff link an existing customer to their savings transactions by setting their national id
(RULES.md §4), through the API, on SQLite and PostgreSQL."""

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from domain.importing_runs import ImportKind
from domain.users import Role
from integrations.sample_files import CUSTOMER_HEADERS
from tests.live_server import GraphQLClient, LiveServer
from workers.importing import run_import

UPDATE = """mutation($input: UpdateCustomerInput!) { updateCustomer(input: $input) {
  __typename
  ... on UpdateCustomerSuccess { customer { id idType nationalId nationalIdVerified } }
  ... on Error { code message }
  ... on InvalidInputError { fields { field message } }
  ... on DuplicateCustomerError { field } } }"""
REGISTER = """mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) {
  ... on RegisterCustomerSuccess { customer { id } } } }"""
CUSTOMER = """query($id: ID!) { customer(id: $id) { nationalId nationalIdVerified
  creditAssessment { transactions { score balance { amount } transactionCount } } } }"""
LINKED = "4b1d2c3e-7a5f-4c1e-9d2b-1f0e6a7b8c9d"  # savings balance 568,450 -> score 670
OTHER = "123412341234"  # savings balance 150,000 -> score 400
NO_SAVINGS = "999988887777"
PERSON = {"firstName": "Asha", "lastName": "Rao", "phone": "+919800000001", "age": 30}


@pytest.fixture
def staff(make_user: Any, login: Any) -> str:
    make_user("boss", Role.STAFF)
    return str(login("boss")["accessToken"])


@pytest.fixture
def imported(client: GraphQLClient, server: LiveServer, staff: str, tmp_path: Path) -> str:
    """The global id of customer 2 of the bank's spreadsheet, imported with no national id;
    the savings transactions of two Aadhar ids are imported too."""
    book = Workbook()
    book.active.append(CUSTOMER_HEADERS)
    book.active.append((2, "Meera", "Iyer", 35, "9700000002", 50000, 1800000))
    book.save(tmp_path / "customers.xlsx")
    (tmp_path / "transactions.csv").write_text(
        "user,date,transaction_type,amount\n"
        f"{LINKED},2025-03-01,CREDIT,600000.00\n"
        f"{LINKED},2025-04-01,DEBIT,31550.00\n"
        f"{OTHER},2025-03-01,CREDIT,150000.00\n"
    )
    sessions, dispatch = server.runtime.session_factory, server.runtime.dispatcher.dispatch
    run_import(sessions, ImportKind.CUSTOMERS, tmp_path / "customers.xlsx")
    run_import(sessions, ImportKind.TRANSACTIONS, tmp_path / "transactions.csv", dispatch)
    server.settle()
    found = client.execute('{ customers(search: "Meera") { edges { node { id } } } }', token=staff)
    return str(found.data["customers"]["edges"][0]["node"]["id"])


def update(client: GraphQLClient, token: str | None, customer: str, **extra: Any) -> Any:
    variables = {"input": {"customerId": customer, **extra}}
    return client.execute(UPDATE, variables, token=token).data["updateCustomer"]


def register(client: GraphQLClient, token: str | None, **extra: Any) -> str:
    """Another customer, registered by staff."""
    variables = {"input": {**PERSON, "monthlyIncome": "50000", **extra}}
    created = client.execute(REGISTER, variables, token=token).data["registerCustomer"]
    return str(created["customer"]["id"])


def seen(client: GraphQLClient, staff: str, customer: str) -> dict[str, Any]:
    found: dict[str, Any] = client.execute(CUSTOMER, {"id": customer}, token=staff).data["customer"]
    return found


def test_staff_link_an_imported_customer_and_the_score_appears_after_the_job(
    client: GraphQLClient, server: LiveServer, staff: str, imported: str
) -> None:
    assert seen(client, staff, imported)["creditAssessment"]["transactions"] is None
    linked = update(client, staff, imported, nationalId=LINKED)
    assert linked == {
        "__typename": "UpdateCustomerSuccess",
        "customer": {
            "id": imported,
            "idType": "AADHAR",
            "nationalId": LINKED,
            "nationalIdVerified": True,
        },
    }
    server.settle()
    scored = seen(client, staff, imported)["creditAssessment"]["transactions"]
    assert scored == {"score": 670, "balance": {"amount": "568450.00"}, "transactionCount": 2}


def test_the_score_is_the_one_a_registered_customer_with_that_id_gets(
    client: GraphQLClient, server: LiveServer, staff: str, imported: str
) -> None:
    update(client, staff, imported, nationalId=LINKED)
    server.settle()
    linked = seen(client, staff, imported)["creditAssessment"]
    update(client, staff, imported, nationalId=NO_SAVINGS)  # frees the id for the comparison
    registered = register(client, staff, nationalId=LINKED)
    server.settle()
    assert seen(client, staff, registered)["creditAssessment"] == linked


def test_setting_the_same_id_again_changes_nothing(
    client: GraphQLClient, server: LiveServer, staff: str, imported: str
) -> None:
    first = update(client, staff, imported, nationalId=LINKED)
    server.settle()
    again = update(client, staff, imported, nationalId=LINKED, idType="AADHAR")
    server.settle()
    assert again == first
    assert seen(client, staff, imported)["creditAssessment"]["transactions"]["score"] == 670


def test_a_new_id_replaces_the_score_of_the_old_one(
    client: GraphQLClient, server: LiveServer, staff: str, imported: str
) -> None:
    update(client, staff, imported, nationalId=LINKED)
    server.settle()
    update(client, staff, imported, nationalId=OTHER)
    server.settle()
    assert seen(client, staff, imported)["creditAssessment"]["transactions"]["score"] == 400
    update(client, staff, imported, nationalId=NO_SAVINGS)
    server.settle()
    assert seen(client, staff, imported)["creditAssessment"]["transactions"] is None


def test_an_id_another_customer_holds_is_refused_and_nothing_changes(
    client: GraphQLClient, server: LiveServer, staff: str, imported: str
) -> None:
    update(client, staff, imported, nationalId=OTHER)
    server.settle()
    before = seen(client, staff, imported)
    register(client, staff, nationalId=LINKED)
    refused = update(client, staff, imported, nationalId=LINKED)
    assert (refused["__typename"], refused["code"], refused["field"]) == (
        "DuplicateCustomerError",
        "DUPLICATE_CUSTOMER",
        "national id",
    )
    server.settle()
    assert seen(client, staff, imported) == before
    assert before["nationalId"] == OTHER and before["creditAssessment"]["transactions"]


def test_an_invalid_id_is_refused_naming_the_field(
    client: GraphQLClient, staff: str, imported: str
) -> None:
    for bad in ("x!", "12345", "a" * 65, "1234 5678 9012"):
        refused = update(client, staff, imported, nationalId=bad)
        assert refused["__typename"] == "InvalidInputError"
        assert [f["field"] for f in refused["fields"]] == ["nationalId"]
    assert seen(client, staff, imported)["nationalId"] is None


def test_only_staff_may_set_a_national_id(
    client: GraphQLClient, staff: str, imported: str, login: Any
) -> None:
    sign_up = {"username": "asha", "password": "a long password"}
    client.execute(REGISTER, {"input": {**PERSON, "monthlyIncome": "50000", **sign_up}})
    asha = login("asha", "a long password")["accessToken"]
    refused = update(client, asha, imported, nationalId=LINKED)
    assert (refused["__typename"], refused["code"]) == (
        "PermissionDeniedError",
        "PERMISSION_DENIED",
    )
    anonymous = update(client, None, imported, nationalId=LINKED)
    assert anonymous["__typename"] == "NotAuthenticatedError"
    assert seen(client, staff, imported)["nationalId"] is None


def test_an_unknown_customer_is_a_typed_error(client: GraphQLClient, staff: str) -> None:
    missing = update(client, staff, "Q3VzdG9tZXI6OTk5OTk=", nationalId=LINKED)  # Customer:99999
    assert missing["__typename"] == "CustomerNotFoundError"
