"""GraphQL over HTTP: the media type a client's Accept header gets, which requests are
refused before anything runs, and the status each response is sent with."""

from __future__ import annotations

import pytest
from strawberry.http import GraphQLRequestData
from strawberry.types.graphql import OperationType

from app.graphql_over_http import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    Refused,
    acceptable,
    allowed_operations,
    check_parameters,
    check_request,
    content_type,
    finish,
    operation_refused,
    query_parameters,
    response_media_type,
)

UNAVAILABLE = {"message": "retry", "extensions": {"code": "SERVICE_UNAVAILABLE"}}
SYNTAX_ERROR = {"message": "Syntax Error: Expected Name.", "locations": [{"line": 1}]}
FIELD_ERROR = {"message": "Staff only.", "path": ["users"], "extensions": {"code": "DENIED"}}


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
        ("application/json;q=0, */*", GRAPHQL_RESPONSE_JSON),
    ],
)
def test_the_response_media_type_follows_the_accept_header(
    accept: str | None, expected: str
) -> None:
    assert response_media_type(accept) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, True),
        ("  ", True),
        ("*/*", True),
        ("application/*", True),
        ("text/html, application/json;q=0.1", True),
        (GRAPHQL_RESPONSE_JSON, True),
        ("text/html", False),
        ("application/xml", False),
        ("application/json;q=0", False),
        (f"application/json;q=0, {GRAPHQL_RESPONSE_JSON};q=0, */*", False),
    ],
)
def test_an_accept_header_must_admit_one_of_the_two_media_types(
    accept: str | None, expected: bool
) -> None:
    assert acceptable(accept) is expected


def test_graphql_response_json_names_its_charset_and_json_stays_as_it_was() -> None:
    assert content_type(GRAPHQL_RESPONSE_JSON) == f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    assert content_type(JSON) == JSON


def test_an_unavailable_database_is_a_503_without_data_only_under_graphql_response_json() -> None:
    body = {"data": None, "errors": [UNAVAILABLE]}
    assert finish(body, JSON) == (body, 200, {})
    assert finish(body, GRAPHQL_RESPONSE_JSON) == (
        {"errors": [UNAVAILABLE]},
        503,
        {"Retry-After": "2"},
    )


def test_a_request_error_is_a_400_without_data_only_under_graphql_response_json() -> None:
    body = {"data": None, "errors": [SYNTAX_ERROR]}
    assert finish(body, JSON) == (body, 200, {})
    assert finish(body, GRAPHQL_RESPONSE_JSON) == ({"errors": [SYNTAX_ERROR]}, 400, {})


def test_partial_data_and_other_errors_stay_200() -> None:
    partial = {"data": {"me": None}, "errors": [UNAVAILABLE]}
    internal = {"data": None, "errors": [{"extensions": {"code": "INTERNAL_ERROR"}}]}
    assert finish(partial, GRAPHQL_RESPONSE_JSON)[1] == 200
    assert finish(internal, GRAPHQL_RESPONSE_JSON)[1] == 200


def test_a_field_error_that_nulls_all_data_is_still_a_200_with_its_null_data() -> None:
    body = {"data": None, "errors": [FIELD_ERROR]}
    assert finish(body, GRAPHQL_RESPONSE_JSON) == (body, 200, {})


def _refusal(method: str, headers: dict[str, str], has_query: bool = True) -> int | None:
    try:
        check_request(method, headers, has_query)
    except Refused as refused:
        return refused.status_code
    return None


def test_a_client_accepting_neither_media_type_is_refused_with_406() -> None:
    assert _refusal("POST", {"accept": "application/xml"}) == 406
    assert _refusal("GET", {"accept": "application/xml"}) == 406
    assert _refusal("POST", {"accept": "application/json"}) is None


def test_graphiqls_page_is_no_graphql_request_whatever_it_accepts() -> None:
    assert _refusal("GET", {"accept": "text/html"}, has_query=False) is None


def test_a_body_in_another_charset_than_utf_8_is_refused_with_415() -> None:
    assert _refusal("POST", {"content-type": "application/json; charset=ISO-8859-1"}) == 415
    assert _refusal("POST", {"content-type": 'application/json; charset="UTF-8"'}) is None
    assert _refusal("POST", {"content-type": "application/json"}) is None


def test_get_runs_queries_and_post_queries_and_mutations_never_subscriptions() -> None:
    assert allowed_operations("GET") == {OperationType.QUERY}
    assert allowed_operations("POST") == {OperationType.QUERY, OperationType.MUTATION}


def test_a_mutation_over_get_is_405_naming_post() -> None:
    refused = operation_refused(OperationType.MUTATION, "GET")
    assert (refused.status_code, refused.headers) == (405, {"Allow": "POST"})


def test_a_subscription_over_http_is_a_bad_request_pointing_at_the_websocket() -> None:
    for method in ("GET", "POST"):
        refused = operation_refused(OperationType.SUBSCRIPTION, method)
        assert refused.status_code == 400 and "websocket" in refused.reason


def test_an_empty_operation_name_in_a_get_means_none() -> None:
    assert query_parameters({"query": "{ me { id } }", "operationName": ""}) == {
        "query": "{ me { id } }"
    }
    assert query_parameters({"operationName": "Me"}) == {"operationName": "Me"}


@pytest.mark.parametrize("name", [{"obj": "ect"}, 0, False, ["array"]])
def test_an_operation_name_that_is_no_string_is_a_malformed_request(name: object) -> None:
    ill_typed = GraphQLRequestData("{ me { id } }", None, name, None)  # type: ignore[arg-type]
    with pytest.raises(Refused) as refused:
        check_parameters(ill_typed)
    assert refused.value.status_code == 400
    check_parameters(GraphQLRequestData("{ me { id } }", None, "Me", None))
