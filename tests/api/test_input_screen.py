"""Text the books cannot hold and amounts beyond them are refused as INVALID_INPUT naming the
field, before any resolver runs: never an INTERNAL_ERROR (PostgreSQL refuses NUL bytes)."""

from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from domain.customers import Customer
from domain.origination import LoanApplication
from domain.providers import ProviderOperation
from domain.users import Role, User
from schema.input_screen import problems_in
from tests.live_server import GraphQLClient, LiveServer

REGISTER = """
mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) {
  __typename ... on InvalidInputError { code message fields { field message } } } }
"""
ASHA = {
    "firstName": "Asha",
    "lastName": "Rao",
    "phone": "+919800000001",
    "age": 34,
    "monthlyIncome": "50000",
    "username": "asha",
    "password": "a long password",
}


def count(server: LiveServer, table: type) -> int:
    with server.runtime.session_factory() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


@pytest.fixture
def staff(make_user: Any, login: Any) -> str:
    make_user("boss", Role.STAFF)
    return str(login("boss")["accessToken"])


@pytest.fixture
def asha(client: GraphQLClient, login: Any) -> str:
    # signed out, sign-up answers alike whether or not the details are new (issue 15)
    assert client.execute(REGISTER, {"input": ASHA}).data["registerCustomer"]["__typename"] == (
        "SignUpReceived"
    )
    return str(login("asha", "a long password")["accessToken"])


def test_a_nul_in_a_query_argument_is_invalid_input_naming_it(
    client: GraphQLClient, staff: str
) -> None:
    query = '{ customers(search: "a\\u0000b") { edges { cursor } } }'
    response = client.execute(query, token=staff)
    [error] = response.errors
    assert error["extensions"] == {"code": "INVALID_INPUT"}
    assert error["message"] == (
        "Invalid input — search: must not contain control characters (found U+0000)"
    )
    assert error["path"] == ["customers"]


def test_a_nul_in_a_mutation_input_field_is_the_typed_error_and_writes_nothing(
    client: GraphQLClient, server: LiveServer
) -> None:
    response = client.execute(
        'mutation { registerCustomer(input: {firstName: "As\\u0000ha", lastName: "Rao", '
        'phone: "+919800000001", age: 34, monthlyIncome: "50000", username: "asha", '
        'password: "a long password"}) { __typename ... on InvalidInputError '
        "{ code fields { field message } } } }"
    )
    assert response.data["registerCustomer"] == {
        "__typename": "InvalidInputError",
        "code": "INVALID_INPUT",
        "fields": [
            {"field": "firstName", "message": "must not contain control characters (found U+0000)"}
        ],
    }
    assert count(server, Customer) == 0 and count(server, User) == 0


def test_a_nul_in_a_variable_is_the_typed_error_for_anonymous_sign_in(
    client: GraphQLClient, make_user: Any
) -> None:
    make_user("asha")
    response = client.execute(
        "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) {"
        " __typename ... on InvalidInputError { fields { field } } } }",
        {"u": "asha\u0000", "p": "correct horse battery"},
    )
    assert response.data["login"] == {
        "__typename": "InvalidInputError",
        "fields": [{"field": "username"}],
    }


def test_a_nul_in_an_idempotency_key_is_refused_and_no_application_is_stored(
    client: GraphQLClient, server: LiveServer, asha: str
) -> None:
    response = client.execute(
        "mutation($input: ApplyForLoanInput!) { applyForLoan(input: $input) {"
        " __typename ... on InvalidInputError { fields { field message } } } }",
        {
            "input": {
                "productCode": "PERSONAL_EMI",
                "amount": "50000",
                "tenure": 6,
                "idempotencyKey": "apply-\u0000-0001",
            }
        },
        token=asha,
    )
    assert response.data["applyForLoan"] == {
        "__typename": "InvalidInputError",
        "fields": [
            {
                "field": "idempotencyKey",
                "message": "must not contain control characters (found U+0000)",
            }
        ],
    }
    assert count(server, LoanApplication) == 0


@pytest.mark.parametrize(
    ("character", "code_point"),
    [("\x01", "U+0001"), ("\x1b", "U+001B"), ("\x7f", "U+007F"), ("\x85", "U+0085")],
)
def test_other_control_characters_are_refused_too(
    client: GraphQLClient, character: str, code_point: str
) -> None:
    response = client.execute(REGISTER, {"input": {**ASHA, "lastName": f"Rao{character}"}})
    assert response.data["registerCustomer"]["fields"] == [
        {
            "field": "lastName",
            "message": f"must not contain control characters (found {code_point})",
        }
    ]


def test_tabs_and_line_breaks_pass_the_screen_to_the_domain(
    client: GraphQLClient, staff: str
) -> None:
    response = client.execute(
        "query($s: String) { customers(search: $s) { edges { cursor } } }",
        {"s": "a\tb\r\nc"},
        token=staff,
    )
    assert response.data == {"customers": {"edges": []}}


def test_a_lone_surrogate_from_json_is_refused_as_invalid_text(
    server: LiveServer, client: GraphQLClient, staff: str
) -> None:
    # httpx would refuse to encode a lone surrogate: send the JSON escape as the wire has it.
    body = (
        b'{"query": "query($s: String) { customers(search: $s) { edges { cursor } } }",'
        b' "variables": {"s": "a\\ud800"}}'
    )
    response = httpx.post(
        f"{server.url}/graphql",
        content=body,
        headers={"content-type": "application/json", "authorization": f"Bearer {staff}"},
    )
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INVALID_INPUT"}
    assert "search: is not valid Unicode text (a lone surrogate, U+D800)" in error["message"]


@pytest.mark.parametrize("digits", [17, 19, 27, 30])
def test_amounts_beyond_sixteen_whole_digits_are_the_typed_error_naming_the_field(
    client: GraphQLClient, server: LiveServer, digits: int
) -> None:
    response = client.execute(REGISTER, {"input": {**ASHA, "monthlyIncome": "1" * digits}})
    assert response.data["registerCustomer"]["fields"] == [
        {"field": "monthlyIncome", "message": "has more than 16 digits before the decimal point"}
    ]
    assert count(server, Customer) == 0


def test_provider_fund_moves_beyond_what_amounts_hold_are_typed_errors(
    client: GraphQLClient, server: LiveServer, staff: str
) -> None:
    provider = client.execute(
        'mutation { registerProvider(input: {username: "anil", password: "a long password", '
        'name: "Anil"}) { __typename } }',
        token=staff,
    ).data["registerProvider"]
    assert provider["__typename"] == "RegisterProviderSuccess", provider
    anil = client.execute(
        'mutation { login(input: {username: "anil", password: "a long password"}) '
        "{ ... on AuthTokens { accessToken } } }"
    ).data["login"]["accessToken"]
    moves = (("addProviderFunds", ""), ("withdrawProviderFunds", "source: AVAILABLE"))
    for mutation, source in moves:
        response = client.execute(
            f'mutation {{ {mutation}(input: {{amount: "{"9" * 28}", {source} '
            'idempotencyKey: "move-00000001"}) { __typename '
            "... on InvalidInputError { fields { field } } } }",
            token=anil,
        )
        assert response.data[mutation] == {
            "__typename": "InvalidInputError",
            "fields": [{"field": "amount"}],
        }
    assert count(server, ProviderOperation) == 0


def test_every_refused_field_is_named_once() -> None:
    problems = problems_in(
        {
            "input": {"name": "ok", "lines": [{"note": "fine"}, {"note": "bad\x00"}]},
            "search": "\x07",
            "first": 5,
        }
    )
    assert [problem.field for problem in problems] == ["lines[1].note", "search"]
