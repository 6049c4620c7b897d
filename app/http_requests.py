"""What a GraphQL request over HTTP may be: one JSON object carrying a query or a mutation.

Anything else is the client's mistake, answered 400 with a GraphQL-style error body
(code BAD_REQUEST) — never the plain-text 500 Strawberry gives for a body of `null`, `5`,
`"text"` or `true`, for JSON nested past Python's recursion limit or for bytes that are not
UTF-8. Subscriptions run over the websocket only.
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError, parse
from graphql import OperationType as DocumentOperation
from graphql.utilities import get_operation_ast
from strawberry.http import GraphQLRequestData
from strawberry.types.graphql import OperationType

SUBSCRIPTIONS_OVER_WEBSOCKET = (
    "Subscriptions run over the websocket at /graphql (protocol graphql-transport-ws), "
    "not over HTTP."
)
NOT_AN_OBJECT = 'Expected a JSON object, e.g. {"query": "{ me { id } }"}'


def http_operation_types(method: str) -> set[OperationType]:
    """What a GET or POST may run: Strawberry's choice, less subscriptions (it would run them
    as a single synchronous execution, which they cannot be)."""
    return OperationType.from_http(method) - {OperationType.SUBSCRIPTION}  # type: ignore[arg-type]


def refuse_subscriptions(request_data: GraphQLRequestData, max_tokens: int) -> None:
    """Answer a subscription sent over HTTP with where to send it instead. Documents that do
    not say `subscription` are not parsed here; one that does not parse (or is too long) is
    left to execution, which reports why as usual."""
    query = request_data.query or ""
    if "subscription" not in query:
        return
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return
    operation = get_operation_ast(document, request_data.operation_name)
    if operation is not None and operation.operation is DocumentOperation.SUBSCRIPTION:
        raise HTTPException(400, SUBSCRIPTIONS_OVER_WEBSOCKET)


class StrictJsonBodies:
    """Parses request bodies (and GET `variables`/`extensions`) for the GraphQL view."""

    def parse_json(self, data: str | bytes) -> Any:
        try:
            parsed = json.loads(data)
        except (ValueError, RecursionError) as error:  # JSONDecodeError, UnicodeDecodeError
            raise HTTPException(400, "Unable to parse request body as JSON") from error
        if not isinstance(parsed, (dict, list)):  # a list is a batch, refused by Strawberry
            raise HTTPException(400, NOT_AN_OBJECT)
        return parsed
