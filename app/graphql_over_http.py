"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/): which requests are
served, in which media type, with which status. The one place for it:

- `application/graphql-response+json` (charset=utf-8) when the client's Accept header
  prefers it or only names it; `application/json` otherwise (no Accept header, `*/*`,
  or json preferred). An Accept header that admits neither is refused with 406.
- Under application/json an executed operation is always HTTP 200, errors in the body
  (legacy clients cannot tell our 4xx from a proxy's).
- Under application/graphql-response+json a request error (the document does not parse
  or validate, the operation cannot be chosen, a variable does not coerce) has no `data`
  and is a 400; an operation that could not run because the database was unreachable has
  no `data` and is a 503 with `Retry-After`. Anything that executed is a 200, even when
  its `data` is null: field errors make a partial response, not a failed request.
- GET serves queries only: a mutation is 405 (Allow: POST). Subscriptions go over the
  websocket, never plain HTTP. A POST body must be JSON in UTF-8: another declared charset
  is 415.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException
from starlette.responses import JSONResponse
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types.graphql import OperationType

from schema.build import INTERNAL_ERROR, SERVICE_UNAVAILABLE

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
SERVED = (GRAPHQL_RESPONSE_JSON, JSON)
UTF_8 = ("utf-8", "utf8", "us-ascii")  # JSON is UTF-8 (RFC 8259 §8.1); ASCII is a subset
RETRY_AFTER_SECONDS = 2  # a database restart or failover usually takes a few seconds
METHODS = {"GET": {OperationType.QUERY}, "POST": {OperationType.QUERY, OperationType.MUTATION}}
CODES = {405: "METHOD_NOT_ALLOWED", 406: "NOT_ACCEPTABLE", 415: "UNSUPPORTED_MEDIA_TYPE"}


class Refused(HTTPException):
    """A request GraphQL over HTTP refuses before anything runs, with headers to send."""

    def __init__(
        self, status_code: int, reason: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status_code, reason)
        self.headers = dict(headers or {})


def _parameters(parameters: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        found[name.strip().lower()] = value.strip().strip('"')
    return found


def _quality(parameters: list[str]) -> float:
    try:
        return max(0.0, min(1.0, float(_parameters(parameters).get("q", "1"))))
    except ValueError:
        return 0.0


def _qualities(accept: str) -> dict[str, float]:
    """Each media range the Accept header names, with its q value (RFC 9110 §12.5.1)."""
    found: dict[str, float] = {}
    for part in accept.split(","):
        media_range, *parameters = part.split(";")
        name = media_range.strip().lower()
        if name:
            found[name] = max(found.get(name, 0.0), _quality(parameters))
    return found


def _quality_of(media_type: str, qualities: Mapping[str, float]) -> float:
    """How much the client wants `media_type`: its most specific matching range decides."""
    kind = media_type.partition("/")[0]
    for media_range in (media_type, f"{kind}/*", "*/*"):
        if media_range in qualities:
            return qualities[media_range]
    return 0.0


def response_media_type(accept: str | None) -> str:
    """The media type to answer with: graphql-response+json when the client names it at
    least as strongly as application/json, or refuses json (q=0) and a wildcard admits it;
    application/json otherwise, wildcards included."""
    qualities = _qualities(accept or "")
    named = qualities.get(GRAPHQL_RESPONSE_JSON, 0.0)
    json = _quality_of(JSON, qualities)
    prefers_ours = named > 0 and named >= json
    refuses_json = json == 0 and _quality_of(GRAPHQL_RESPONSE_JSON, qualities) > 0
    return GRAPHQL_RESPONSE_JSON if prefers_ours or refuses_json else JSON


def acceptable(accept: str | None) -> bool:
    """False when an Accept header admits neither media type we answer in (a 406)."""
    if not (accept or "").strip():
        return True  # no preference: application/json, as for legacy clients
    qualities = _qualities(accept or "")
    return any(_quality_of(media_type, qualities) > 0 for media_type in SERVED)


def content_type(media_type: str) -> str:
    """The Content-Type header: graphql-response+json names its encoding as the spec asks;
    application/json defines no charset parameter (RFC 8259) and stays as legacy clients
    know it. Both are always UTF-8."""
    return f"{media_type}; charset=utf-8" if media_type == GRAPHQL_RESPONSE_JSON else media_type


def check_request(method: str, headers: Mapping[str, str], has_query: bool) -> None:
    """Refuses (raises Refused) what no GraphQL response can answer: a client accepting
    neither media type (406), a POST body in another charset than UTF-8 (415). A GET
    without a query is GraphiQL's page, whatever its Accept header."""
    if method == "GET" and not has_query:
        return
    if not acceptable(headers.get("accept")):
        raise Refused(406, f"Accept {GRAPHQL_RESPONSE_JSON} or {JSON}.")
    _, *parameters = headers.get("content-type", "").split(";")
    charset = _parameters(parameters).get("charset", "utf-8").lower()
    if method == "POST" and charset not in UTF_8:
        raise Refused(415, "Send the request body as JSON in UTF-8.")


SUBSCRIPTIONS_OVER_WEBSOCKET = (
    "Subscriptions run over the websocket at /graphql (protocol graphql-transport-ws), "
    "not over HTTP."
)


def allowed_operations(method: str) -> set[OperationType]:
    """Queries over GET (a safe method); queries and mutations over POST. Subscriptions are
    served over the websocket only."""
    return set(METHODS.get(method, set()))


def operation_refused(operation_type: OperationType, method: str) -> Refused:
    """Why an operation of this type is not run for a request with this method."""
    if operation_type is OperationType.SUBSCRIPTION:
        return Refused(400, SUBSCRIPTIONS_OVER_WEBSOCKET)
    if method == "GET":
        return Refused(405, "Send mutations with POST; GET serves queries only.", {"Allow": "POST"})
    return Refused(400, f"{operation_type.value} operations are not allowed with {method}.")


def query_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """GET parameters as Strawberry reads them, with an empty operationName meaning none
    (as the spec says): clients serialising an unset name send `operationName=`."""
    if parameters.get("operationName") == "":
        return {key: value for key, value in parameters.items() if key != "operationName"}
    return parameters


def check_parameters(request_data: GraphQLRequestData | list[GraphQLRequestData]) -> None:
    """What Strawberry leaves unchecked of a well-formed request: operationName is a string
    or null. Anything else is a malformed request (400), not an unknown operation."""
    for data in request_data if isinstance(request_data, list) else [request_data]:
        if not isinstance(data.operation_name, (str, type(None))):
            raise Refused(400, "The GraphQL operation's `operationName` must be a string or null.")


def refused_response(error: HTTPException, media_type: str) -> JSONResponse:
    """A refused request: an errors-only GraphQL response carrying the HTTP status."""
    headers = dict(getattr(error, "headers", {}))
    if error.status_code == 405:
        headers.setdefault("Allow", "GET, POST")  # RFC 9110 §15.5.6: a 405 names them
    body = {
        "errors": [
            {
                "message": error.reason,
                "extensions": {"code": CODES.get(error.status_code, "BAD_REQUEST")},
            }
        ]
    }
    return JSONResponse(
        body, error.status_code, headers=headers, media_type=content_type(media_type)
    )


def _codes(body: Mapping[str, Any]) -> set[str]:
    return {
        str((error.get("extensions") or {}).get("code"))
        for error in body.get("errors") or []
        if isinstance(error, Mapping)
    }


def _is_request_error(body: Mapping[str, Any]) -> bool:
    """Nothing executed: GraphQL gives every field error the path of its field, and a
    request error (parsing, validation, choosing the operation, coercing variables) none.
    A failure of ours (INTERNAL_ERROR) is no fault of the request."""
    errors = [error for error in body.get("errors") or [] if isinstance(error, Mapping)]
    return (
        bool(errors)
        and not any("path" in error for error in errors)
        and INTERNAL_ERROR not in _codes(body)
    )


def _without_data(body: GraphQLHTTPResponse) -> GraphQLHTTPResponse:
    failed = body.copy()
    failed.pop("data", None)  # the operation did not run: a failed request, not a result
    return failed


def finish(
    body: GraphQLHTTPResponse, media_type: str
) -> tuple[GraphQLHTTPResponse, int, dict[str, str]]:
    """The body to send, its HTTP status and extra headers, for a response to one operation
    in `media_type`."""
    if media_type != GRAPHQL_RESPONSE_JSON or body.get("data") is not None:
        return body, 200, {}
    if SERVICE_UNAVAILABLE in _codes(body):
        return _without_data(body), 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if _is_request_error(body):
        return _without_data(body), 400, {}
    return body, 200, {}
