"""Production refuses unsafe settings and hides GraphiQL and introspection."""

from collections.abc import Iterator

import httpx
import pytest
from pydantic import ValidationError

from app.asgi import create_app
from app.settings import DEFAULT_SECRET
from tests.conftest import make_settings
from tests.live_server import GraphQLClient, LiveServer

STRONG = "p" * 48


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        make_settings(
            "postgresql+psycopg2://db/x", LENDGRAPH_ENV="production", JWT_SECRET=DEFAULT_SECRET
        )


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        make_settings("postgresql+psycopg2://db/x", LENDGRAPH_ENV="production", JWT_SECRET="short")


def test_production_refuses_sqlite_unless_explicitly_allowed() -> None:
    with pytest.raises(ValidationError, match="SQLite"):
        make_settings(
            "sqlite:///x.db",
            LENDGRAPH_ENV="production",
            JWT_SECRET=STRONG,
            SCORING_CALLBACK_PASSWORD=STRONG,
            CBS_PASSWORD=STRONG,
        )
    allowed = make_settings(
        "sqlite:///x.db",
        LENDGRAPH_ENV="production",
        JWT_SECRET=STRONG,
        SCORING_CALLBACK_PASSWORD=STRONG,
        CBS_PASSWORD=STRONG,
        ALLOW_SQLITE_IN_PRODUCTION=True,
    )
    assert allowed.is_production


def test_production_refuses_the_development_scoring_and_cbs_passwords() -> None:
    with pytest.raises(ValidationError, match="SCORING_CALLBACK_PASSWORD"):
        make_settings("postgresql+psycopg2://db/x", LENDGRAPH_ENV="production", JWT_SECRET=STRONG)
    with pytest.raises(ValidationError, match="CBS_PASSWORD"):
        make_settings(
            "postgresql+psycopg2://db/x",
            LENDGRAPH_ENV="production",
            JWT_SECRET=STRONG,
            SCORING_CALLBACK_PASSWORD=STRONG,
        )


@pytest.fixture(scope="module")
def production_server(sqlite_url: str) -> Iterator[LiveServer]:
    settings = make_settings(
        sqlite_url,
        LENDGRAPH_ENV="production",
        JWT_SECRET=STRONG,
        SCORING_CALLBACK_PASSWORD=STRONG,
        CBS_PASSWORD=STRONG,
        ALLOW_SQLITE_IN_PRODUCTION=True,
    )
    with LiveServer(create_app(settings)) as live:
        yield live


def test_production_disables_introspection(production_server: LiveServer) -> None:
    client = GraphQLClient(production_server.url)
    response = client.execute("{ __schema { types { name } } }")
    assert response.errors and "introspection" in response.errors[0]["message"].lower()
    assert client.execute("{ me { id } }").data == {"me": None}
    client.close()


def test_production_serves_no_graphiql(production_server: LiveServer) -> None:
    response = httpx.get(f"{production_server.url}/graphql", headers={"accept": "text/html"})
    assert response.status_code == 404


def test_development_serves_graphiql(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()
