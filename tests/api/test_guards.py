"""Expensive or malformed requests are refused cleanly: never a 500, never a stack trace."""

from collections.abc import Iterator

import httpx
import pytest

from app.asgi import create_app
from tests.conftest import make_settings
from tests.live_server import GraphQLClient, LiveServer


@pytest.fixture(scope="module")
def strict_server(sqlite_url: str) -> Iterator[LiveServer]:
    settings = make_settings(sqlite_url, MAX_QUERY_DEPTH=2, MAX_ALIASES=2, MAX_TOKENS=60)
    with LiveServer(create_app(settings)) as live:
        yield live


@pytest.fixture
def strict(strict_server: LiveServer) -> Iterator[GraphQLClient]:
    client = GraphQLClient(strict_server.url)
    yield client
    client.close()


def test_a_query_deeper_than_the_limit_is_refused(strict: GraphQLClient) -> None:
    response = strict.execute("{ users { edges { node { id } } } }")
    assert response.status == 200
    assert "exceeds maximum operation depth" in response.errors[0]["message"]
    assert response.body.get("data") is None


def test_too_many_aliases_are_refused(strict: GraphQLClient) -> None:
    response = strict.execute("{ a: me { id } b: me { id } c: me { id } }")
    assert response.status == 200
    assert "aliases found" in response.errors[0]["message"]


def test_too_many_tokens_are_refused(strict: GraphQLClient) -> None:
    response = strict.execute("{ " + " ".join(["__typename"] * 80) + " }")
    assert response.status == 200
    assert "more than 60 tokens" in response.errors[0]["message"]


def test_queries_within_limits_run(strict: GraphQLClient) -> None:
    assert strict.execute("{ me { id } }").data == {"me": None}


def test_mutations_are_never_accepted_over_get(server: LiveServer, client: GraphQLClient) -> None:
    query = 'mutation { logout(input: {refreshToken: "x"}) { __typename } }'
    response = httpx.get(f"{server.url}/graphql", params={"query": query})
    assert response.status_code == 405  # GraphQL over HTTP: Method Not Allowed, use POST
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


def test_queries_work_over_get(server: LiveServer, client: GraphQLClient) -> None:
    response = httpx.get(f"{server.url}/graphql", params={"query": "{ me { id } }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"me": None}}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b"{ me { id } }"),
        ("application/x-www-form-urlencoded", b"query=x"),
        ("application/json", b"{not json"),
    ],
)
def test_non_json_bodies_are_rejected(server: LiveServer, content_type: str, body: bytes) -> None:
    response = httpx.post(
        f"{server.url}/graphql", content=body, headers={"content-type": content_type}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_batched_operations_are_refused(server: LiveServer) -> None:
    response = httpx.post(f"{server.url}/graphql", json=[{"query": "{ me { id } }"}] * 2)
    assert response.status_code == 400


def test_oversized_bodies_are_refused(server: LiveServer) -> None:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": "{ me { id } }", "variables": {"x": "a" * 2_000_000}},
    )
    assert response.status_code == 413


def test_every_response_carries_a_request_id(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/healthz")
    assert response.json() == {"status": "ok"}
    assert len(response.headers["x-request-id"]) >= 8
    echoed = httpx.get(f"{server.url}/healthz", headers={"x-request-id": "client-chosen-id-1"})
    assert echoed.headers["x-request-id"] == "client-chosen-id-1"
