"""Relay-style connections with opaque cursors and a bounded page size."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from domain.errors import FieldProblem, InvalidInput
from domain.pagination import Page

T = TypeVar("T")

_CURSOR_PREFIX = "cursor:"


PageSize = Annotated[int, strawberry.argument(description="Page size, 1-100.")]
AfterCursor = Annotated[str | None, strawberry.argument(description="Cursor to start after.")]


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{position}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError(text)
        return int(text.removeprefix(_CURSOR_PREFIX))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput([FieldProblem("after", "is not a cursor from this API")]) from None


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item; pass as `after`."
    )


@strawberry.type(description="One item of a page with its cursor.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The item.")
    cursor: str = strawberry.field(description="Opaque position of this item.")


@strawberry.type(description="A page of items; ask for the next with `after: pageInfo.endCursor`.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")

    @classmethod
    def from_page(
        cls, page: Page[Any], to_node: Callable[[Any], T], position: Callable[[Any], int]
    ) -> Connection[T]:
        edges = [
            Edge(node=to_node(item), cursor=encode_cursor(position(item))) for item in page.items
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
