"""What a GraphQL request over HTTP may be: one JSON object carrying a query or a mutation.

Anything else is the client's mistake, answered 400 with a GraphQL-style error body
(code BAD_REQUEST) — never the plain-text 500 Strawberry gives for a body of `null`, `5`,
`"text"` or `true`, for JSON nested past Python's recursion limit or for bytes that are not
UTF-8. (What each method may run is app.graphql_over_http's to say.)
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException

NOT_AN_OBJECT = 'Expected a JSON object, e.g. {"query": "{ me { id } }"}'


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
