"""Keyset pagination: pages of rows ordered by id, resumed after an opaque position."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel import Session, col
from sqlmodel.sql.expression import SelectOfScalar

from domain.errors import FieldProblem, InvalidInput

T = TypeVar("T")

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and whether more follow."""

    items: Sequence[T]
    has_next_page: bool
    has_previous_page: bool


def check_page_size(first: int, maximum: int = MAX_PAGE_SIZE) -> None:
    if not 1 <= first <= maximum:
        raise InvalidInput([FieldProblem("first", f"must be between 1 and {maximum}")])


def page_by_id(
    session: Session, statement: SelectOfScalar[T], id_column: Any, first: int, after: int | None
) -> Page[T]:
    """Rows of `statement` with id > `after`, ascending, at most `first` of them."""
    check_page_size(first)
    if after is not None:
        statement = statement.where(col(id_column) > after)
    rows = session.exec(statement.order_by(col(id_column)).limit(first + 1)).all()
    return Page(
        items=rows[:first], has_next_page=len(rows) > first, has_previous_page=after is not None
    )


def page_of_loaded(rows: Sequence[T], first: int, after: int | None, id_of: Any) -> Page[T]:
    """The same page as `page_by_id`, cut from rows already loaded in id order (for lists
    batched across a whole parent page)."""
    check_page_size(first)
    rest = [row for row in rows if after is None or id_of(row) > after]
    return Page(
        items=rest[:first], has_next_page=len(rest) > first, has_previous_page=after is not None
    )
