"""Shared table conventions: constraint naming and timestamps, for PostgreSQL and SQLite alike."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLModel.metadata.naming_convention = NAMING_CONVENTION
SQLITE_UNIQUE_FAILED = "UNIQUE constraint failed: "


def violated_constraint(error: IntegrityError, table: type[SQLModel]) -> str | None:
    """The name of the constraint of `table` a failed write broke (None if unknown), to turn
    a race lost to a concurrent writer into the typed refusal the pre-check would have given.
    PostgreSQL reports the name; SQLite reports only the columns of a unique constraint (or
    unique index), in a fixed form, and `table` has one of them on exactly those columns."""
    diagnostics = getattr(error.orig, "diag", None)
    if diagnostics is not None:
        name = diagnostics.constraint_name
        return str(name) if name else None
    reported = str(error.orig)
    if not reported.startswith(SQLITE_UNIQUE_FAILED):
        return None
    columns = [part.strip().rpartition(".")[2] for part in reported.split(": ", 1)[1].split(",")]
    core: sa.Table = table.__table__  # type: ignore[attr-defined]
    unique: list[sa.UniqueConstraint | sa.Index] = [
        *(c for c in core.constraints if isinstance(c, sa.UniqueConstraint)),
        *(i for i in core.indexes if i.unique),
    ]
    for constraint in unique:
        if constraint.columns.keys() == columns:
            return str(constraint.name)
    return None


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both dialects (SQLite stores no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC-aware ones")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def timestamp_column(*, nullable: bool = False, index: bool = False) -> sa.Column[datetime]:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)
