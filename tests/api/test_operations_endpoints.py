"""/healthz, /readyz and /metrics as an operator's monitoring sees them."""

from collections.abc import Iterator

import httpx
import pytest

from app.asgi import create_app
from tests.conftest import make_settings
from tests.live_server import GraphQLClient, LiveServer, free_port


def test_metrics_count_operations_by_name_and_outcome(
    server: LiveServer, client: GraphQLClient
) -> None:
    client.execute("query WhoAmI { me { id } }")
    client.execute("query Broken { users { edges { cursor } } }")  # refused: not staff
    text = httpx.get(f"{server.url}/metrics").text
    assert 'lendgraph_graphql_requests_total{operation="WhoAmI",outcome="ok"}' in text
    assert 'lendgraph_graphql_requests_total{operation="Broken",outcome="error"}' in text
    assert 'lendgraph_graphql_request_seconds_bucket{le="0.1",operation="WhoAmI"}' in text
    assert "lendgraph_outbox_pending 0.0" in text
    assert "# TYPE lendgraph_jobs_total counter" in text


def test_ready_when_the_database_and_broker_answer(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "checks": {"database": "ok", "broker": "ok"}}


@pytest.fixture(scope="module")
def server_without_redis(sqlite_url: str) -> Iterator[LiveServer]:
    settings = make_settings(sqlite_url, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    with LiveServer(create_app(settings)) as live:
        yield live


def test_not_ready_while_the_broker_is_unreachable(server_without_redis: LiveServer) -> None:
    response = httpx.get(f"{server_without_redis.url}/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False and body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unavailable")
    assert httpx.get(f"{server_without_redis.url}/healthz").status_code == 200


@pytest.fixture(scope="module")
def cors_server(sqlite_url: str) -> Iterator[LiveServer]:
    settings = make_settings(sqlite_url, ALLOWED_ORIGINS=["https://app.example"])
    with LiveServer(create_app(settings)) as live:
        yield live


def test_listed_browser_origins_may_call_the_api_and_others_may_not(
    cors_server: LiveServer,
) -> None:
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
    }
    allowed = httpx.options(
        f"{cors_server.url}/graphql", headers={"origin": "https://app.example", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    refused = httpx.options(
        f"{cors_server.url}/graphql", headers={"origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers
