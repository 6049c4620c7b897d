"""Customers through the GraphQL API: registration, profile, who sees what, no N+1."""

from typing import Any

import pytest

from domain.users import Role
from tests.live_server import GraphQLClient, LiveServer
from tests.password_work import PasswordWorkSpy
from tests.sql_counter import count_statements

REGISTER = """
mutation Register($input: RegisterCustomerInput!) {
  registerCustomer(input: $input) {
    __typename
    ... on RegisterCustomerSuccess { customer { id firstName age hasAccount
      monthlyIncome { amount currency } approvedLimit { amount currency } } }
    ... on SignUpReceived { message }
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
MY_CUSTOMER = """{ me { role customer { id firstName hasAccount
  approvedLimit { amount currency } } } }"""


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


def signed_up(client: GraphQLClient, login: Any, username: str, **changes: Any) -> str:
    """A customer who signed themself up; their global id (read once signed in)."""
    register(client, username=username, password="a long password", **changes)
    token = login(username, "a long password")["accessToken"]
    return str(client.execute(MY_CUSTOMER, token=token).data["me"]["customer"]["id"])


@pytest.fixture
def staff_token(make_user: Any, login: Any) -> str:
    make_user("boss", Role.STAFF)
    return str(login("boss")["accessToken"])


def test_self_sign_up_creates_the_customer_and_their_account(
    client: GraphQLClient, login: Any
) -> None:
    result = register(client, username="asha", password="a long password")
    assert result["__typename"] == "SignUpReceived"
    assert "sign in" in result["message"]
    token = login("asha", "a long password")["accessToken"]
    me = client.execute(MY_CUSTOMER, token=token).data["me"]
    assert me["role"] == "CUSTOMER"
    assert me["customer"]["firstName"] == "Asha"
    assert me["customer"]["hasAccount"] is True
    assert me["customer"]["approvedLimit"] == {"amount": "1800000.00", "currency": "INR"}


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
    client: GraphQLClient, make_user: Any, staff_token: str, login: Any
) -> None:
    make_user("asha")
    result = register(client, username="asha", password="a long password")
    assert result["__typename"] == "SignUpReceived"
    page = client.execute("{ customers { edges { cursor } } }", token=staff_token).data
    assert page["customers"]["edges"] == []
    assert login("asha", "a long password")["__typename"] == "InvalidCredentialsError"


def test_anonymous_sign_up_answers_alike_whether_or_not_a_detail_is_taken(
    client: GraphQLClient,
    make_user: Any,
    staff_token: str,
    login: Any,
    password_work: PasswordWorkSpy,
) -> None:
    make_user("taken")
    register(client, staff_token, phone="+919800000005", nationalId="123412341234")
    attempts = {
        "new": form(phone="+919800000001", nationalId="432143214321", username="asha"),
        "username": form(phone="+919800000002", username="taken"),
        "phone": form(phone="+919800000005", username="ravi"),
        "national id": form(phone="+919800000003", nationalId="123412341234", username="meena"),
    }
    answers, hashes = {}, {}
    for name, details in attempts.items():
        password_work.calls = 0
        response = client.execute(REGISTER, {"input": {**details, "password": "a long password"}})
        answers[name], hashes[name] = response.body, password_work.calls
    assert answers["new"]["data"]["registerCustomer"]["__typename"] == "SignUpReceived"
    assert all(answer == answers["new"] for answer in answers.values()), answers
    assert hashes == dict.fromkeys(attempts, 1)  # the same password work in every case
    assert login("asha", "a long password")["__typename"] == "AuthTokens"
    for username in ("ravi", "meena"):
        assert login(username, "a long password")["__typename"] == "InvalidCredentialsError"
    page = client.execute("{ customers { edges { cursor } } }", token=staff_token).data
    assert len(page["customers"]["edges"]) == 2


def test_invalid_sign_up_input_is_refused_alike_whether_or_not_a_detail_is_taken(
    client: GraphQLClient, staff_token: str
) -> None:
    register(client, staff_token, phone="+919800000005")
    short = {"username": "asha", "password": "short"}
    taken = register(client, phone="+919800000005", **short)
    new = register(client, phone="+919800000006", **short)
    assert taken == new
    assert (new["__typename"], [f["field"] for f in new["fields"]]) == (
        "InvalidInputError",
        ["password"],
    )


def test_staff_hear_precisely_which_detail_a_self_signed_up_customer_holds(
    client: GraphQLClient, staff_token: str
) -> None:
    register(client, username="asha", password="a long password", nationalId="432143214321")
    same_phone = register(client, staff_token, phone="+919800000001")
    same_id = register(client, staff_token, phone="+919800000002", nationalId="432143214321")
    assert (same_phone["code"], same_phone["field"]) == ("DUPLICATE_CUSTOMER", "phone number")
    assert (same_id["code"], same_id["field"]) == ("DUPLICATE_CUSTOMER", "national id")


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
    mine = signed_up(client, login, "asha")
    theirs = signed_up(client, login, "ravi", phone="+919800000002")
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
