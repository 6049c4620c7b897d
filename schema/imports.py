"""Import runs: what each file import read, imported, skipped and refused."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry

from domain.importing_runs import ImportRun as ImportRunRow
from resolvers import imports as resolvers
from schema.info import Info
from schema.pagination import AfterCursor, Connection, PageSize, decode_cursor
from schema.permissions import IsStaff


@strawberry.enum(description="Which kind of file was imported.")
class ImportKind(enum.Enum):
    CUSTOMERS = strawberry.enum_value("CUSTOMERS", description="customer_data.xlsx format.")
    LOANS = strawberry.enum_value("LOANS", description="loan_data.xlsx format.")
    TRANSACTIONS = strawberry.enum_value("TRANSACTIONS", description="transactions CSV format.")


@strawberry.enum(description="Where an import run stands.")
class ImportStatus(enum.Enum):
    RUNNING = strawberry.enum_value("RUNNING", description="Still reading rows.")
    COMPLETED = strawberry.enum_value("COMPLETED", description="Every row was read.")
    REFUSED = strawberry.enum_value("REFUSED", description="Wrong headers; nothing was read.")
    FAILED = strawberry.enum_value("FAILED", description="Stopped by an error; run it again.")


@strawberry.type(description="A row the import refused, and why.")
class ImportRowError:
    row: int = strawberry.field(description="Row number as the spreadsheet shows it.")
    reason: str = strawberry.field(description="What is wrong with it.")


@strawberry.type(description="One import of one file.")
class ImportRun:
    id: strawberry.ID = strawberry.field(description="The run's number.")
    kind: ImportKind = strawberry.field(description="Which kind of file.")
    source: str = strawberry.field(description="The file's name.")
    status: ImportStatus = strawberry.field(description="Where the run stands.")
    message: str | None = strawberry.field(description="Why it was refused or stopped.")
    read: int = strawberry.field(description="Rows read.")
    imported: int = strawberry.field(description="Rows imported.")
    skipped: int = strawberry.field(description="Rows already imported by an earlier run.")
    failed: int = strawberry.field(description="Rows refused.")
    customers_rescored: int = strawberry.field(
        description="Transactions files: how many customers' transaction scores this import "
        "recomputes, each customer once (only a verified Aadhar id links a customer to "
        "transactions; 0 when none is linked). They are recomputed in the background just "
        "after each batch commits. Always 0 for customer and loan files."
    )
    errors: list[ImportRowError] = strawberry.field(
        description="The refused rows (the first 1,000) with their reasons."
    )
    started_at: datetime = strawberry.field(description="When the run started.")
    finished_at: datetime | None = strawberry.field(description="When it ended, if it has.")

    @classmethod
    def from_model(cls, row: ImportRunRow) -> ImportRun:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=ImportKind(row.kind.value),
            source=row.source,
            status=ImportStatus(row.status.value),
            message=row.message,
            read=row.read,
            imported=row.imported,
            skipped=row.skipped,
            failed=row.failed,
            customers_rescored=row.customers_rescored,
            errors=[ImportRowError(row=e["row"], reason=e["reason"]) for e in row.errors],
            started_at=row.started_at,
            finished_at=row.finished_at,
        )


def _to_node(row: Any) -> ImportRun:
    return ImportRun.from_model(row)


@strawberry.type
class ImportQueries:
    @strawberry.field(
        description="File imports, oldest first (STAFF only).", permission_classes=[IsStaff]
    )
    def import_runs(
        self,
        info: Info,
        first: PageSize = 20,
        after: AfterCursor = None,
    ) -> Connection[ImportRun]:
        page = resolvers.import_runs(info.context, first, decode_cursor(after))
        return Connection[ImportRun].from_page(page, _to_node, lambda run: run.id)
