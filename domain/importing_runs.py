"""Import runs: one per file imported, with its counts and every row it refused."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, Session, SQLModel, select

from domain.pagination import Page, page_by_id
from domain.tables import timestamp_column, utcnow

MAX_STORED_ERRORS = 1000


class ImportKind(enum.StrEnum):
    CUSTOMERS = "CUSTOMERS"
    LOANS = "LOANS"
    TRANSACTIONS = "TRANSACTIONS"


class ImportStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    REFUSED = "REFUSED"  # wrong headers: nothing read
    FAILED = "FAILED"  # stopped by an unexpected error; re-run to finish


@dataclass(frozen=True)
class RowError:
    row: int
    reason: str


@dataclass
class ImportTally:
    """Running counts of an import."""

    read: int = 0
    imported: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    failed: int = 0
    # customers whose transaction score the batches' jobs recompute (RULES.md §4)
    rescored_customers: set[int] = field(default_factory=set)

    def refuse(self, row: int, reason: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(RowError(row, reason))

    def add(self, other: ImportTally) -> None:
        self.read += other.read
        self.imported += other.imported
        self.skipped += other.skipped
        for error in other.errors:
            self.refuse(error.row, error.reason)
        self.failed += other.failed - len(other.errors)
        self.rescored_customers |= other.rescored_customers


class ImportRun(SQLModel, table=True):
    __tablename__ = "import_runs"

    id: int | None = Field(default=None, primary_key=True)
    kind: ImportKind = Field(
        sa_type=sa.Enum(ImportKind, name="import_kind", native_enum=False, length=16)
    )
    source: str = Field(max_length=500)
    file_digest: str = Field(max_length=64, index=True)
    status: ImportStatus = Field(
        sa_type=sa.Enum(ImportStatus, name="import_status", native_enum=False, length=16)
    )
    message: str | None = Field(default=None, max_length=2000)
    read: int = 0
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    # Savings transactions: distinct customers re-scored (the jobs run after each batch).
    customers_rescored: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    started_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))

    def record(self, tally: ImportTally, status: ImportStatus, now: datetime) -> None:
        self.read, self.imported, self.skipped = tally.read, tally.imported, tally.skipped
        self.failed = tally.failed
        self.customers_rescored = len(tally.rescored_customers)
        self.errors = [{"row": e.row, "reason": e.reason} for e in tally.errors]
        self.status = status
        if status is not ImportStatus.RUNNING:
            self.finished_at = now


def import_runs_page(session: Session, first: int, after: int | None) -> Page[ImportRun]:
    """Import runs, oldest first like every list here."""
    return page_by_id(session, select(ImportRun), ImportRun.id, first, after)
