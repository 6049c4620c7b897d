"""Idempotent requests: the same key and request get the first result; the same key for a
different request is refused."""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar

from sqlmodel import Session, select

from domain.errors import IdempotencyConflict

Row = TypeVar("Row")


def fingerprint(*parts: Any) -> str:
    """What makes two requests the same request."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def earlier_result(session: Session, table: type[Row], key: str, print_: str) -> Row | None:
    """The row an earlier request with `key` made, if it was this same request."""
    earlier: Any = session.exec(
        select(table).where(table.idempotency_key == key)  # type: ignore[attr-defined]
    ).first()
    if earlier is not None and earlier.fingerprint != print_:
        raise IdempotencyConflict(key)
    return earlier  # type: ignore[no-any-return]
