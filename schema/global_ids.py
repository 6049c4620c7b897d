"""Global ids sent by clients, read in one place for the type of object a field names.

Id arguments and input fields are plain `ID`s (`strawberry.ID`), not `relay.GlobalID`:
Strawberry parses a GlobalID before any resolver runs and refuses garbage with a top-level
error, so a malformed id could never become the mutation's typed InvalidInputError.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

from strawberry import relay
from strawberry.relay.types import GlobalIDValueError
from strawberry.types.base import StrawberryObjectDefinition

from domain.errors import FieldProblem, InvalidInput
from schema.info import Info

T = TypeVar("T")


class NodeRef(NamedTuple):
    """What a well-formed global id names: a GraphQL type and a row of it."""

    type_name: str
    row: int


def row_id(text: str) -> int | None:
    """A row id from a global id's node part; anything but plain ASCII digits is no id."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def decode(value: str) -> NodeRef | None:
    """The type and row a global id names, or None for anything this API never issues
    (not base64, no `Type:` prefix, a node part that is not a row number)."""
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        return None
    type_name, colon, node_part = text.partition(":")
    number = row_id(node_part)
    if not colon or not type_name or number is None:
        return None
    return NodeRef(type_name, number)


def row_of(value: str, type_name: str, field: str) -> int:
    """The row a `type_name` id names; any other id is refused as invalid input in `field`
    (the GraphQL argument or input field it came in). Whether the row exists, and whether
    the viewer may see it, is for the use case to say."""
    ref = decode(value)
    if ref is None or ref.type_name != type_name:
        raise InvalidInput([FieldProblem(field, f"is not a {type_name} id from this API")])
    return ref.row


def optional_row_of(value: str | None, type_name: str, field: str) -> int | None:
    """`row_of` for an optional id: None when no id was given."""
    return None if value is None else row_of(value, type_name, field)


def rows_of(values: Sequence[str] | None, type_name: str, field: str) -> list[int] | None:
    """`row_of` for each id of an optional list; a refusal says which item (from 1)."""
    if values is None:
        return None
    refs = [decode(value) for value in values]
    for position, ref in enumerate(refs, start=1):
        if ref is None or ref.type_name != type_name:
            problem = f"item {position} is not a {type_name} id from this API"
            raise InvalidInput([FieldProblem(field, problem)])
    return [ref.row for ref in refs if ref is not None]


def lookup_row(value: str, type_name: str) -> int | None:
    """For lookups that answer null: the row a `type_name` id names, or None for any other
    id (such an id names nothing the viewer could see)."""
    ref = decode(value)
    return ref.row if ref is not None and ref.type_name == type_name else None


def lookup_node(
    value: str,
    type_name: str,
    visible: Callable[[list[int]], dict[int, Any]],
    to_node: Callable[[Any], T],
) -> T | None:
    """A single lookup that answers null: the object a `type_name` id names, if the viewer
    may see it (`visible` returns the rows of the ids they may)."""
    wanted = lookup_row(value, type_name)
    row = visible([wanted]).get(wanted) if wanted is not None else None
    return to_node(row) if row is not None else None


def resolve_node(info: Info, value: str) -> relay.Node | None:
    """`node(id)`: the object of a Node type the id names, if the viewer may see it; null
    for a malformed id or one of a type that is no Node (an interface, `Query`, unknown)."""
    ref = decode(value)
    if ref is None:
        return None
    definition = info.schema.get_type_by_name(ref.type_name)
    if not isinstance(definition, StrawberryObjectDefinition) or definition.is_interface:
        return None
    try:
        return relay.GlobalID(ref.type_name, str(ref.row)).resolve_node_sync(info)
    except GlobalIDValueError:  # an object type that is no Node
        return None


def visible_nodes(
    node_ids: Iterable[str],
    visible: Callable[[list[int]], dict[int, Any]],
    to_node: Callable[[Any], T],
) -> list[T | None]:
    """Node lookups answer only what the viewer may see; anything else is simply null."""
    ids = [row_id(i) for i in node_ids]
    found = visible([i for i in ids if i is not None])
    return [to_node(found[i]) if i in found else None for i in ids]
