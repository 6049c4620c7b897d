"""Insert-if-absent and upsert that work the same on PostgreSQL and SQLite (ON CONFLICT).

Rows go as one executemany of a cached statement (SQLAlchemy batches them into multi-row
VALUES itself), never as a freshly compiled statement per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def _insert(session: Session, table: type[SQLModel]) -> Any:
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    core_table: Table = table.__table__  # type: ignore[attr-defined]
    return module.insert(core_table)


def insert_ignoring_conflicts(
    session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]]
) -> int:
    """Insert rows that do not clash with an existing key; returns how many went in."""
    if not rows:
        return 0
    statement = _insert(session, table)
    first_key = next(iter(statement.table.primary_key.columns))
    statement = statement.on_conflict_do_nothing().returning(first_key)
    return len(session.connection().execute(statement, list(rows)).all())


def upsert(
    session: Session,
    table: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    key: list[str],
    update: list[str] | None = None,
) -> None:
    """Insert rows, or update the row with the same key (`update` columns, default: all
    non-key columns)."""
    if not rows:
        return
    statement = _insert(session, table)
    columns = update if update is not None else [n for n in rows[0] if n not in key]
    statement = statement.on_conflict_do_update(
        index_elements=key, set_={name: statement.excluded[name] for name in columns}
    )
    session.connection().execute(statement, list(rows))
