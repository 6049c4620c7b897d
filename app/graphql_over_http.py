"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/): which media type
answers a request, and with which status. The one place for it; minimal for now:

- `application/graphql-response+json` when the client's Accept header prefers it (or only
  names it); `application/json` otherwise (no Accept header, `*/*`, or json preferred).
- Under application/json an executed operation is always HTTP 200, errors in the body.
- Under application/graphql-response+json an operation that could not run because the
  database was unreachable (no data, a SERVICE_UNAVAILABLE error) is answered as a failed
  request: no `data` entry, HTTP 503 and `Retry-After`. Anything else stays 200.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strawberry.http import GraphQLHTTPResponse

from schema.build import SERVICE_UNAVAILABLE

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
RETRY_AFTER_SECONDS = 2  # a database restart or failover usually takes a few seconds


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0
    return 1.0


def _qualities(accept: str) -> dict[str, float]:
    """Each media range the Accept header names, with its q value (RFC 9110 §12.5.1)."""
    found: dict[str, float] = {}
    for part in accept.split(","):
        media_range, *parameters = part.split(";")
        name = media_range.strip().lower()
        if name:
            found[name] = max(found.get(name, 0.0), _quality(parameters))
    return found


def response_media_type(accept: str | None) -> str:
    """The media type to answer with: graphql-response+json only when the client asks for
    it at least as strongly as for application/json; wildcards get application/json."""
    qualities = _qualities(accept or "")
    wanted = qualities.get(GRAPHQL_RESPONSE_JSON, 0.0)
    return GRAPHQL_RESPONSE_JSON if wanted > 0 and wanted >= qualities.get(JSON, 0.0) else JSON


def _codes(body: Mapping[str, Any]) -> set[str]:
    return {
        str((error.get("extensions") or {}).get("code"))
        for error in body.get("errors") or []
        if isinstance(error, Mapping)
    }


def finish(
    body: GraphQLHTTPResponse, media_type: str
) -> tuple[GraphQLHTTPResponse, int, dict[str, str]]:
    """The body to send, its HTTP status and extra headers, for a response to one operation
    in `media_type`."""
    if media_type != GRAPHQL_RESPONSE_JSON or body.get("data") is not None:
        return body, 200, {}
    if SERVICE_UNAVAILABLE in _codes(body):
        failed = body.copy()
        failed.pop("data", None)  # the operation did not run: a failed request, not a result
        return failed, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return body, 200, {}
