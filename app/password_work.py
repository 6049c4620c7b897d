"""Which requests hash a password, read from the document before it runs, so they run on
their own small thread pool and never take the threads signed-in requests are served by.

`login` always verifies a password; `registerCustomer` hashes one when the caller is signed
out (self sign-up). Every field of the document counts, whatever its depth or fragment, so
hiding a login in a fragment changes nothing. A document that does not parse within the
token limit runs nothing: it is refused by the same parser on the ordinary pool.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
    parse,
)

HASHING = "login"
HASHING_WHEN_SIGNED_OUT = "registerCustomer"


def _field_names(selection_set: SelectionSetNode | None) -> Iterator[str]:
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection.name.value
            yield from _field_names(selection.selection_set)
        elif isinstance(selection, InlineFragmentNode):
            yield from _field_names(selection.selection_set)


def document_fields(query: str | None, max_tokens: int) -> frozenset[str]:
    """Every field name in the document (fragment definitions included); none if it does
    not parse within `max_tokens` (cheap: the parser stops at the limit)."""
    try:
        document: DocumentNode = parse(query or "", no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return frozenset()
    return frozenset(
        name
        for definition in document.definitions
        if isinstance(definition, ExecutableDefinitionNode)
        for name in _field_names(definition.selection_set)
    )


def hashes_passwords(fields: frozenset[str], signed_in: bool) -> bool:
    return HASHING in fields or (not signed_in and HASHING_WHEN_SIGNED_OUT in fields)
