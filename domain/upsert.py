"""Insert-if-absent that works the same on PostgreSQL and SQLite (ON CONFLICT DO NOTHING)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def insert_ignoring_conflicts(
    session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]]
) -> int:
    """Insert rows that do not clash with an existing key; returns how many went in."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(list(rows)).on_conflict_do_nothing()
    result = session.exec(statement)
    return int(getattr(result, "rowcount", 0) or 0)


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
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(list(rows))
    columns = update if update is not None else [n for n in rows[0] if n not in key]
    updates = {name: statement.excluded[name] for name in columns}
    session.exec(statement.on_conflict_do_update(index_elements=key, set_=updates))
