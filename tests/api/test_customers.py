"""Customers through the GraphQL API: registration, profile, who sees what, no N+1."""

from typing import Any

import pytest

from domain.users import Role
from tests.live_server import GraphQLClient, LiveServer
from tests.sql_counter import count_statements

REGISTER = """
mutation Register($input: RegisterCustomerInput!) {
  registerCustomer(input: $input) {
    __typename
    ... on RegisterCustomerSuccess { customer { id firstName age hasAccount
      monthlyIncome { amount currency } approvedLimit { amount currency } } }
    ... on Error { code message }
    ... on InvalidInputError { fields { field message } }
    ... on DuplicateCustomerError { field }
  }
}
"""
UPDATE = """
mutation Update($input: UpdateMyProfileInput!) {
  updateMyProfile(input: $input) {
    __typename
    ... on UpdateMyProfileSuccess { customer { phone approvedLimit { amount } } }
    ... on Error { code }
  }
}
"""
ASSESSMENT = """
creditAssessment {
  loanHistory { score reason components { name points maxPoints explanation } computedAt }
  transactions { score balance { amount } transactionCount }
}
"""
CUSTOMER = "query($id: ID!) { customer(id: $id) { firstName " + ASSESSMENT + " } }"


def form(**changes: Any) -> dict[str, Any]:
    base = {
        "firstName": "Asha",
        "lastName": "Rao",
        "phone": "+919800000001",
        "age": 34,
        "monthlyIncome": "50000",
        "email": "asha@example.com",
    }
    base.update(changes)
    return base


def register(client: GraphQLClient, token: str | None = None, **changes: Any) -> dict[str, Any]:
    return client.execute(REGISTER, {"input": form(**changes)}, token=token).data[
        "registerCustomer"
    ]


@pytest.fixture
def staff_token(make_user: Any, login: Any) -> str:
    make_user("boss", Role.STAFF)
    return str(login("boss")["accessToken"])


def test_self_sign_up_creates_the_customer_and_their_account(
    client: GraphQLClient, login: Any
) -> None:
    result = register(client, username="asha", password="a long password")
    assert result["__typename"] == "RegisterCustomerSuccess"
    customer = result["customer"]
    assert customer["hasAccount"] is True
    assert customer["approvedLimit"] == {"amount": "1800000.00", "currency": "INR"}
    token = login("asha", "a long password")["accessToken"]
    me = client.execute("{ me { role customer { id firstName } } }", token=token).data["me"]
    assert me == {"role": "CUSTOMER", "customer": {"id": customer["id"], "firstName": "Asha"}}


@pytest.mark.parametrize(
    ("income", "limit"), [("23000", "800000.00"), ("12500", "500000.00"), ("55000", "2000000.00")]
)
def test_staff_registration_computes_the_approved_limit(
    client: GraphQLClient, staff_token: str, income: str, limit: str
) -> None:
    result = register(client, staff_token, monthlyIncome=income)
    assert result["customer"]["approvedLimit"]["amount"] == limit
    assert result["customer"]["hasAccount"] is False


def test_annual_income_is_converted_to_monthly(client: GraphQLClient, staff_token: str) -> None:
    result = register(client, staff_token, monthlyIncome=None, annualIncome="600000")
    assert result["customer"]["monthlyIncome"]["amount"] == "50000.00"
    assert result["customer"]["approvedLimit"]["amount"] == "1800000.00"


def test_every_invalid_field_is_reported_and_nothing_is_stored(
    client: GraphQLClient, staff_token: str
) -> None:
    result = register(
        client,
        staff_token,
        firstName=" ",
        age=15,
        phone="12ab",
        email="not-an-email",
        monthlyIncome="-5",
        nationalId="x!",
    )
    assert result["__typename"] == "InvalidInputError"
    fields = {f["field"] for f in result["fields"]}
    assert fields == {"firstName", "age", "phone", "email", "monthlyIncome", "nationalId"}
    page = client.execute("{ customers { edges { cursor } } }", token=staff_token).data
    assert page == {"customers": {"edges": []}}


def test_a_second_customer_with_the_same_phone_or_national_id_is_refused(
    client: GraphQLClient, staff_token: str
) -> None:
    register(client, staff_token, nationalId="123412341234")
    same_phone = register(client, staff_token, nationalId="999988887777")
    same_id = register(client, staff_token, phone="+919800000002", nationalId="123412341234")
    assert (same_phone["__typename"], same_phone["field"]) == (
        "DuplicateCustomerError",
        "phone number",
    )
    assert (same_id["__typename"], same_id["field"]) == ("DuplicateCustomerError", "national id")


def test_sign_up_with_a_taken_username_stores_no_customer(
    client: GraphQLClient, make_user: Any, staff_token: str
) -> None:
    make_user("asha")
    result = register(client, username="asha", password="a long password")
    assert result["__typename"] == "UsernameTakenError"
    page = client.execute("{ customers { edges { cursor } } }", token=staff_token).data
    assert page["customers"]["edges"] == []


def test_a_signed_in_customer_cannot_register_others(client: GraphQLClient, login: Any) -> None:
    register(client, username="asha", password="a long password")
    token = login("asha", "a long password")["accessToken"]
    result = register(client, token, phone="+919800000009")
    assert result["__typename"] == "PermissionDeniedError"


def test_income_changes_recompute_the_approved_limit(client: GraphQLClient, login: Any) -> None:
    register(client, username="asha", password="a long password")
    token = login("asha", "a long password")["accessToken"]
    changed = client.execute(
        UPDATE, {"input": {"monthlyIncome": "55000", "phone": "+919811111111"}}, token=token
    ).data["updateMyProfile"]
    assert changed == {
        "__typename": "UpdateMyProfileSuccess",
        "customer": {"phone": "+919811111111", "approvedLimit": {"amount": "2000000.00"}},
    }
    anonymous = client.execute(UPDATE, {"input": {"email": "a@b.co"}}).data["updateMyProfile"]
    assert anonymous["code"] == "NOT_AUTHENTICATED"


def test_customers_see_only_themselves_and_staff_see_all(
    client: GraphQLClient, staff_token: str, login: Any
) -> None:
    mine = register(client, username="asha", password="a long password")["customer"]["id"]
    theirs = register(client, phone="+919800000002", username="ravi", password="a long password")[
        "customer"
    ]["id"]
    asha = login("asha", "a long password")["accessToken"]

    assert client.execute(CUSTOMER, {"id": mine}, token=asha).data["customer"]["firstName"]
    assert client.execute(CUSTOMER, {"id": theirs}, token=asha).data == {"customer": None}
    node = client.execute("query($id: ID!) { node(id: $id) { id } }", {"id": theirs}, token=asha)
    assert node.data == {"node": None}
    listing = client.execute("{ customers { edges { cursor } } }", token=asha)
    assert listing.errors[0]["extensions"]["code"] == "PERMISSION_DENIED"

    assert client.execute(CUSTOMER, {"id": theirs}).data == {"customer": None}
    assert client.execute("{ customers { edges { cursor } } }").errors

    both = client.execute("{ customers { edges { node { id } } } }", token=staff_token).data
    assert {e["node"]["id"] for e in both["customers"]["edges"]} == {mine, theirs}
    assessment = client.execute(CUSTOMER, {"id": theirs}, token=staff_token).data["customer"]
    assert assessment["creditAssessment"]["loanHistory"]["score"] == 50


def test_search_finds_customers_by_name_phone_and_national_id(
    client: GraphQLClient, staff_token: str
) -> None:
    register(client, staff_token, nationalId="5555-aaaa-0001")
    register(client, staff_token, firstName="Ravi", lastName="Nair", phone="+919700000000")
    query = "query($s: String) { customers(search: $s) { edges { node { firstName } } } }"

    def found(text: str) -> list[str]:
        page = client.execute(query, {"s": text}, token=staff_token).data["customers"]
        return [e["node"]["firstName"] for e in page["edges"]]

    assert found("ravi n") == ["Ravi"]
    assert found("97000") == ["Ravi"]
    assert found("AAAA-0001") == ["Asha"]
    assert found("nobody") == []


def test_customer_pages_with_assessments_cost_the_same_statements_at_any_size(
    client: GraphQLClient, server: LiveServer, staff_token: str
) -> None:
    for n in range(30):
        register(client, staff_token, phone=f"+91980000{n:04d}", nationalId=f"1000-0000-{n:04d}")
    server.settle()  # background score jobs would otherwise be counted too
    query = (
        "query($n: Int!) { customers(first: $n) { edges { node { id firstName "
        + ASSESSMENT
        + " } } } }"
    )
    counts = []
    for size in (2, 30):
        with count_statements(server.runtime.engine) as counter:
            page = client.execute(query, {"n": size}, token=staff_token).data["customers"]
        assert len(page["edges"]) == size
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
