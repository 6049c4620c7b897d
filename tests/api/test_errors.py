"""Unexpected failures are masked with a request id; expected ones are typed and exact."""

import logging
from typing import Any

import pytest

from domain import sign_in
from domain.users import Role
from tests.live_server import GraphQLClient

LOGIN = 'mutation { login(input: {username: "asha", password: "whatever-long"}) { __typename } }'


def test_an_unexpected_exception_is_masked_and_carries_the_request_id(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("connection string postgres://secret@db leaked?")

    monkeypatch.setattr(sign_in, "log_in", explode)
    with caplog.at_level(logging.ERROR, logger="lendgraph.graphql"):
        response = client.execute(LOGIN)

    assert response.status == 200
    [error] = response.errors
    request_id = response.headers["x-request-id"]
    assert error["extensions"] == {"code": "INTERNAL_ERROR", "requestId": request_id}
    assert request_id in error["message"]
    assert "secret" not in str(response.body) and "RuntimeError" not in str(response.body)
    logged = [
        r.msg
        for r in caplog.records
        if isinstance(r.msg, dict) and r.msg.get("event") == "graphql_unexpected_error"
    ]
    assert logged and logged[0]["request_id"] == request_id
    assert isinstance(logged[0]["exc_info"], RuntimeError)


def test_a_domain_error_in_a_mutation_is_its_typed_union_member(client: GraphQLClient) -> None:
    result = client.execute(
        'mutation { login(input: {username: "nobody", password: "nothing-here"}) {'
        " __typename ... on Error { code message } } }"
    ).data["login"]
    assert result == {
        "__typename": "InvalidCredentialsError",
        "code": "INVALID_CREDENTIALS",
        "message": "Username or password is wrong.",
    }


def test_a_domain_error_in_a_query_keeps_its_message_and_code(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("boss", Role.STAFF)
    token = login("boss")["accessToken"]
    response = client.execute("{ users(first: 1000) { edges { cursor } } }", token=token)
    [error] = response.errors
    assert error["extensions"] == {"code": "INVALID_INPUT"}
    assert "between 1 and 100" in error["message"]
    bad_cursor = client.execute('{ users(after: "bm9wZQ==") { edges { cursor } } }', token=token)
    assert bad_cursor.errors[0]["extensions"] == {"code": "INVALID_INPUT"}


def test_permission_refusals_have_a_code_and_no_data(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("asha")
    response = client.execute("{ users { edges { cursor } } }", token=login("asha")["accessToken"])
    assert response.errors[0]["extensions"] == {"code": "PERMISSION_DENIED"}
    assert response.body["data"] is None


def test_a_failure_outside_execution_is_masked_too(
    client: GraphQLClient, make_user: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.sign_in_check

    make_user("asha")
    token = login("asha")["accessToken"]

    def database_down(*_: Any) -> bool:
        raise RuntimeError("could not connect to server: secret-host")

    monkeypatch.setattr(app.sign_in_check, "sign_in_state", database_down)
    response = client.execute("{ me { id } }", token=token)
    assert response.status == 200
    [error] = response.errors
    assert error["extensions"] == {
        "code": "INTERNAL_ERROR",
        "requestId": response.headers["x-request-id"],
    }
    assert "secret-host" not in str(response.body)


@pytest.mark.parametrize("literal", ['"ten"', "0.1", '"NaN"', '"1e999999999"'])
def test_bad_decimal_input_is_the_clients_error(client: GraphQLClient, literal: str) -> None:
    response = client.execute(
        'mutation { registerCustomer(input: {firstName: "A", lastName: "B", '
        f'phone: "9876543210", age: 30, monthlyIncome: {literal}}}) {{ __typename }} }}'
    )
    assert response.errors
    assert all(e.get("extensions", {}).get("code") != "INTERNAL_ERROR" for e in response.errors)
