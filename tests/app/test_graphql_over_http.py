"""GraphQL over HTTP: the media type a client's Accept header gets, and when a 503 is sent."""

from __future__ import annotations

import pytest

from app.graphql_over_http import GRAPHQL_RESPONSE_JSON, JSON, finish, response_media_type

UNAVAILABLE = {"message": "retry", "extensions": {"code": "SERVICE_UNAVAILABLE"}}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        (f"application/json, {GRAPHQL_RESPONSE_JSON};q=0.5", JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0", JSON),
        ("Application/GraphQL-Response+JSON; charset=utf-8, */*;q=0.1", GRAPHQL_RESPONSE_JSON),
    ],
)
def test_the_response_media_type_follows_the_accept_header(
    accept: str | None, expected: str
) -> None:
    assert response_media_type(accept) == expected


def test_an_unavailable_database_is_a_503_without_data_only_under_graphql_response_json() -> None:
    body = {"data": None, "errors": [UNAVAILABLE]}
    assert finish(body, JSON) == (body, 200, {})
    assert finish(body, GRAPHQL_RESPONSE_JSON) == (
        {"errors": [UNAVAILABLE]},
        503,
        {"Retry-After": "2"},
    )


def test_partial_data_and_other_errors_stay_200() -> None:
    partial = {"data": {"me": None}, "errors": [UNAVAILABLE]}
    internal = {"data": None, "errors": [{"extensions": {"code": "INTERNAL_ERROR"}}]}
    assert finish(partial, GRAPHQL_RESPONSE_JSON)[1] == 200
    assert finish(internal, GRAPHQL_RESPONSE_JSON)[1] == 200
