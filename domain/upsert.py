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
