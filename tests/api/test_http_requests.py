"""Malformed HTTP requests are the client's mistake: 400 with a GraphQL-style error body."""

from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer

DEEP = 100_000  # far past Python's recursion limit
DEEP_IN_A_URL = 1_500  # past it too, in a URL short enough for the server to read


def assert_bad_request(response: httpx.Response, message: str | None = None) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    if message is not None:
        assert message in error["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"null", "Expected a JSON object"),
        (b'"{ me { id } }"', "Expected a JSON object"),
        (b"5", "Expected a JSON object"),
        (b"true", "Expected a JSON object"),
        (b"[1, 2]", "Batching is not enabled"),
        (b"[]", "Batching is not enabled"),
        (b"[" * DEEP + b"]" * DEEP, "Unable to parse"),
        (b'{"query": "{ me { id } }", "variables": ' + b"[" * DEEP + b"]" * DEEP + b"}", None),
        (b'{"query": "{ me { id } }", "variables": 5}', "`variables` must be an object"),
        (b'{"query": 5}', "`query` must be a string"),
        (b'{"query": "{ me { id } }\xff"}', "Unable to parse"),  # not UTF-8
        (b'{"query": "{ me { id } }"', "Unable to parse"),
        (b"", "Unable to parse"),
    ],
)
def test_malformed_json_bodies_are_bad_requests(
    server: LiveServer, body: bytes, message: str | None
) -> None:
    response = httpx.post(
        f"{server.url}/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert_bad_request(response, message)


@pytest.mark.parametrize(
    "headers",
    [{}, {"content-type": "text/plain"}, {"content-type": "multipart/form-data; boundary=x"}],
)
def test_bodies_that_are_not_json_are_bad_requests(
    server: LiveServer, headers: dict[str, str]
) -> None:
    body = b'{"query": "{ me { id } }"}'
    response = httpx.post(f"{server.url}/graphql", content=body, headers=headers)
    assert_bad_request(response, "Unsupported content type")


@pytest.mark.parametrize(
    "variables", ["5", "null5", '"text"', "[" * DEEP_IN_A_URL + "]" * DEEP_IN_A_URL]
)
def test_malformed_variables_in_a_get_are_bad_requests(server: LiveServer, variables: str) -> None:
    response = httpx.get(
        f"{server.url}/graphql", params={"query": "{ me { id } }", "variables": variables}
    )
    assert_bad_request(response)


@pytest.mark.parametrize(
    "request_args",
    [
        {"method": "POST", "json": {"query": "subscription { loanUpdated { loanNumber } }"}},
        {"method": "GET", "params": {"query": "subscription { loanUpdated { loanNumber } }"}},
        {
            "method": "POST",
            "json": {
                "query": "query A { me { id } } subscription B { loanUpdated { status } }",
                "operationName": "B",
            },
        },
    ],
)
def test_a_subscription_over_http_is_refused_pointing_at_the_websocket(
    server: LiveServer, request_args: dict[str, Any]
) -> None:
    response = httpx.request(url=f"{server.url}/graphql", **request_args)
    assert_bad_request(response, "Subscriptions run over the websocket at /graphql")


def test_queries_and_mutations_still_run_over_http(server: LiveServer) -> None:
    query = httpx.post(f"{server.url}/graphql", json={"query": "{ me { id } }"})
    assert query.json() == {"data": {"me": None}}
    mutation = httpx.post(
        f"{server.url}/graphql",
        json={"query": 'mutation { logout(input: {refreshToken: "x"}) { __typename } }'},
    )
    assert mutation.status_code == 200 and "errors" not in mutation.json()
