"""Issue 15, point 6, through a real server: clients that accept
application/graphql-response+json get HTTP statuses that say what happened; clients of
application/json keep the legacy answers (200 for anything GraphQL could answer)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.asgi import create_app
from tests.conftest import make_settings
from tests.live_server import LiveServer

GRAPHQL_RESPONSE = "application/graphql-response+json"
PREFERS_GRAPHQL_RESPONSE = {"accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}
LOANS_BY_STATUS = "query ($s: LoanStatus) { loans(status: $s) { pageInfo { hasNextPage } } }"

# Requests GraphQL refuses before executing anything: no data, a 400 under the new type.
REQUEST_ERRORS: dict[str, dict[str, Any]] = {
    "unparsable": {"query": "{"},
    "invalid": {"query": "{ loanz { pageInfo { hasNextPage } } }"},
    "uncoercible variable": {"query": LOANS_BY_STATUS, "variables": {"s": "NOT_A_STATUS"}},
    "unknown operation": {"query": "query Me { me { id } }", "operationName": "You"},
}


@pytest.fixture(scope="module")
def graphql_url(sqlite_url: str) -> Iterator[str]:
    with LiveServer(create_app(make_settings(sqlite_url))) as live:
        yield f"{live.url}/graphql"


@pytest.mark.parametrize("request_body", REQUEST_ERRORS.values(), ids=REQUEST_ERRORS.keys())
def test_a_request_error_is_a_400_without_data_under_graphql_response_json(
    graphql_url: str, request_body: dict[str, Any]
) -> None:
    response = httpx.post(graphql_url, json=request_body, headers=PREFERS_GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert "data" not in response.json() and response.json()["errors"]


@pytest.mark.parametrize("request_body", REQUEST_ERRORS.values(), ids=REQUEST_ERRORS.keys())
def test_a_request_error_stays_a_200_with_null_data_under_application_json(
    graphql_url: str, request_body: dict[str, Any]
) -> None:
    response = httpx.post(graphql_url, json=request_body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] is None and response.json()["errors"]


def test_a_field_error_is_a_partial_response_and_a_200_even_with_null_data(
    graphql_url: str,
) -> None:
    query = {"query": "{ users { edges { cursor } } }"}  # STAFF only; nobody signed in
    response = httpx.post(graphql_url, json=query, headers=PREFERS_GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


def test_an_operation_that_ran_is_a_200_in_the_media_type_asked_for(graphql_url: str) -> None:
    response = httpx.post(
        graphql_url, json={"query": "{ me { id } }"}, headers=PREFERS_GRAPHQL_RESPONSE
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.json() == {"data": {"me": None}}


def test_a_mutation_over_get_is_405_naming_post(graphql_url: str) -> None:
    query = 'mutation { logout(input: {refreshToken: "x"}) { __typename } }'
    response = httpx.get(graphql_url, params={"query": query}, headers=PREFERS_GRAPHQL_RESPONSE)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


def test_a_subscription_over_http_is_a_bad_request_not_an_internal_error(
    graphql_url: str,
) -> None:
    query = "subscription { notificationReceived { __typename } }"
    for response in (
        httpx.post(graphql_url, json={"query": query}),
        httpx.get(graphql_url, params={"query": query}),
    ):
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST" and "websocket" in error["message"]


def test_a_client_accepting_neither_media_type_gets_406(graphql_url: str) -> None:
    response = httpx.post(
        graphql_url, json={"query": "{ me { id } }"}, headers={"accept": "application/xml"}
    )
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


def test_a_body_declared_in_another_charset_gets_415_and_utf_8_is_read(graphql_url: str) -> None:
    query = '{"query": "{ me { id } } # café"}'
    latin_1 = httpx.post(
        graphql_url,
        content=query.encode("latin-1"),
        headers={"content-type": "application/json; charset=iso-8859-1"},
    )
    utf_8 = httpx.post(
        graphql_url,
        content=query.encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert latin_1.status_code == 415
    assert latin_1.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert (utf_8.status_code, utf_8.json()) == (200, {"data": {"me": None}})


def test_a_get_with_an_empty_operation_name_runs_its_only_operation(graphql_url: str) -> None:
    params = {"query": "query Me { me { id } }", "operationName": ""}
    response = httpx.get(graphql_url, params=params, headers=PREFERS_GRAPHQL_RESPONSE)
    assert (response.status_code, response.json()) == (200, {"data": {"me": None}})


def test_an_operation_name_that_is_no_string_is_a_400(graphql_url: str) -> None:
    body = {"query": "query Me { me { id } }", "operationName": ["Me"]}
    assert httpx.post(graphql_url, json=body).status_code == 400
