"""Issue 15, point 6: production names nothing it was not asked about. A misspelled field,
argument, enum value, input field or type is refused without "Did you mean …", which would
hand out the schema piece by piece where introspection is off; development keeps the
suggestions for GraphiQL users."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.asgi import create_app
from tests.conftest import make_settings
from tests.live_server import GraphQLClient, LiveServer

STRONG = "p" * 48
PRODUCTION = {
    "LENDGRAPH_ENV": "production",
    "JWT_SECRET": STRONG,
    "SCORING_CALLBACK_PASSWORD": STRONG,
    "CBS_PASSWORD": STRONG,
    "ALLOW_SQLITE_IN_PRODUCTION": True,
}

# (what is misspelled, the document, its variables, a word the refusal still names)
MISSPELLINGS: list[tuple[str, str, dict[str, Any], str]] = [
    ("field", "{ loanz { pageInfo { hasNextPage } } }", {}, "loanz"),
    ("argument", "{ loans(statuz: PENDING) { pageInfo { hasNextPage } } }", {}, "statuz"),
    ("enum value", "{ loans(status: PENDNG) { pageInfo { hasNextPage } } }", {}, "PENDNG"),
    (
        "enum value in a variable",
        "query ($s: LoanStatus) { loans(status: $s) { pageInfo { hasNextPage } } }",
        {"s": "PENDNG"},
        "PENDNG",
    ),
    (
        "input field",
        '{ eligibility(input: {productCod: "EMI", amount: "100"}) { __typename } }',
        {},
        "productCod",
    ),
    (
        "variable type",
        "query ($s: LoanStatuz) { loans(status: $s) { pageInfo { hasNextPage } } }",
        {},
        "LoanStatuz",
    ),
    ("fragment type", "{ loans { edges { node { ... on Lon { id } } } } }", {}, "Lon"),
]
IDS = [case[0] for case in MISSPELLINGS]


def _refusals(server: LiveServer) -> Iterator[tuple[str, list[str]]]:
    client = GraphQLClient(server.url)
    try:
        for what, document, variables, _ in MISSPELLINGS:
            response = client.execute(document, variables)
            assert response.body.get("data") is None, (what, response.body)
            yield what, [error["message"] for error in response.errors]
    finally:
        client.close()


@pytest.fixture(scope="module")
def production_server(sqlite_url: str) -> Iterator[LiveServer]:
    with LiveServer(create_app(make_settings(sqlite_url, **PRODUCTION))) as live:
        yield live


@pytest.fixture(scope="module")
def development_server(sqlite_url: str) -> Iterator[LiveServer]:
    with LiveServer(create_app(make_settings(sqlite_url))) as live:
        yield live


def test_production_suggests_no_field_argument_enum_value_or_type_name(
    production_server: LiveServer,
) -> None:
    refusals = dict(_refusals(production_server))
    for what, _, _, misspelled in MISSPELLINGS:
        assert refusals[what], f"{what}: not refused"
        assert any(misspelled in message for message in refusals[what]), refusals[what]
    suggesting = {what: m for what, m in refusals.items() if "Did you mean" in str(m)}
    assert not suggesting, f"production still suggests names: {suggesting}"


def test_development_keeps_suggestions_for_graphiql_users(development_server: LiveServer) -> None:
    refusals = dict(_refusals(development_server))
    silent = [what for what, messages in refusals.items() if "Did you mean" not in str(messages)]
    assert not silent, f"no suggestion in development for: {silent}"
