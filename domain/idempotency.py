"""Idempotent requests. An idempotency key belongs to its requester, the signed-in user who
sent the request (staff acting for a customer use their own keys): the same key and request
from them get the first result; the same key for another request of theirs is refused; a
key another user chose neither blocks their request nor shows them that user's result."""

from __future__ import annotations

import hashlib
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain.errors import IdempotencyConflict
from domain.tables import violated_constraint

# The requester of what the system does by itself (demo data, seeding): no user has id 0.
SYSTEM_REQUESTER = 0


class Keyed(Protocol):
    """A row made by an idempotent request, kept to answer its replays."""

    requested_by: int
    idempotency_key: str
    fingerprint: str


Row = TypeVar("Row")
K = TypeVar("K", bound=Keyed)


def fingerprint(*parts: Any) -> str:
    """What makes two requests the same request."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def key_constraint(table_name: str) -> str:
    """The name of the constraint that keeps each requester's keys unique in a table."""
    return f"uq_{table_name}_requested_by_key"


def unique_key_per_requester(table_name: str) -> sa.UniqueConstraint:
    """For `__table_args__`: a key is unique among one requester's requests only."""
    return sa.UniqueConstraint("requested_by", "idempotency_key", name=key_constraint(table_name))


def earlier_result(
    session: Session, table: type[Row], *, requested_by: int, key: str, print_: str
) -> Row | None:
    """The row an earlier request of this requester with `key` made, if it was this same
    request; never a row of another requester."""
    keyed: Any = table
    earlier: Any = session.exec(
        select(keyed).where(keyed.requested_by == requested_by, keyed.idempotency_key == key)
    ).first()
    if earlier is not None and earlier.fingerprint != print_:
        raise IdempotencyConflict(key)
    return earlier  # type: ignore[no-any-return]


def claim_key(session: Session, row: K) -> K:
    """Store `row`, taking its requester's key. Returns the row that holds the key: `row`,
    or the earlier row of this same request when a concurrent one took the key first
    (PostgreSQL makes this insert wait until that one commits). Any other refused write is
    raised as it came, for the caller to read by its constraint's name."""
    table: Any = type(row)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as error:
        if violated_constraint(error, table) != key_constraint(table.__tablename__):
            raise
        earlier = earlier_result(
            session,
            table,
            requested_by=row.requested_by,
            key=row.idempotency_key,
            print_=row.fingerprint,
        )
        if earlier is None:  # the key's holder vanished: it cannot, rows with keys stay
            raise
        return earlier  # type: ignore[no-any-return]
    return row
