"""The business day and the daily close of business (RULES.md §4, §5): which day the books
are on, and the runs that close each day."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from functools import partial
from typing import Annotated

import strawberry
from strawberry import relay

from domain.billing.calendar import BusinessCalendar
from domain.billing.runs import BillingRun as BillingRunRow
from domain.billing.runs import ChunkFailure
from resolvers import billing as resolvers
from schema.errors import (
    BusinessDateFixedError,
    InvalidInputError,
    NotAuthenticatedError,
    PermissionDeniedError,
    outcome,
)
from schema.global_ids import lookup_node, visible_nodes
from schema.info import Info
from schema.pagination import AfterCursor, Connection, PageSize, decode_cursor
from schema.permissions import IsStaff


@strawberry.type(description="The business day: the date the bank's books are on.")
class BusinessDay:
    date: dt.date = strawberry.field(description="Today's business date; every rule runs as of it.")
    pinned: bool = strawberry.field(
        description="True when staff set it (development and tests); false: the UTC date."
    )
    closed_through: dt.date | None = strawberry.field(
        description="The last business day whose close of business completed."
    )

    @classmethod
    def from_model(cls, row: BusinessCalendar, today: dt.date) -> BusinessDay:
        return cls(
            date=row.pinned_date or today,
            pinned=row.pinned_date is not None,
            closed_through=row.closed_through,
        )


@strawberry.enum(description="Where a close-of-business run stands.")
class BillingRunStatus(enum.Enum):
    PENDING = strawberry.enum_value("PENDING", description="Waiting for the days before it.")
    RUNNING = strawberry.enum_value("RUNNING", description="Its chunks are being closed.")
    COMPLETED = strawberry.enum_value("COMPLETED", description="Every chunk closed.")
    FAILED = strawberry.enum_value(
        "FAILED", description="Some chunks failed (see failures); runBilling again retries them."
    )


@strawberry.type(description="A range of loans a run could not close, and why.")
class BillingFailure:
    first_loan_id: int = strawberry.field(description="First loan row id of the chunk.")
    last_loan_id: int = strawberry.field(description="Last loan row id of the chunk.")
    error: str = strawberry.field(description="What went wrong (for operators).")


@strawberry.type(
    name="BillingRun",
    description="The close of one business day: card interest accrued, card bills issued, and "
    "installment loans marked overdue or delinquent for the day, split by "
    "loan-id ranges into chunks that workers close in parallel, each in its own transaction.",
)
class BillingRunNode(relay.Node):
    run_id: relay.NodeID[int]
    row: strawberry.Private[BillingRunRow]
    business_date: dt.date = strawberry.field(description="The business day it closes.")
    status: BillingRunStatus = strawberry.field(description="Where it stands.")
    chunks_total: int = strawberry.field(description="Chunks the day was split into.")
    chunks_done: int = strawberry.field(description="Chunks closed.")
    chunks_failed: int = strawberry.field(description="Chunks that failed.")
    loans: int = strawberry.field(description="Loans in the chunks closed so far.")
    accruals: int = strawberry.field(description="Daily interest accruals booked.")
    bills: int = strawberry.field(description="Credit-card bills issued.")
    changes: int = strawberry.field(
        description="Loans whose delinquency or status (OVERDUE) changed."
    )
    notices: int = strawberry.field(
        description="Payment reminders and missed-payment notices raised."
    )
    created_at: dt.datetime = strawberry.field(description="When the day was asked to close.")
    started_at: dt.datetime | None = strawberry.field(description="When its chunks were queued.")
    finished_at: dt.datetime | None = strawberry.field(description="When its last chunk ended.")

    @classmethod
    def from_model(cls, row: BillingRunRow) -> BillingRunNode:
        assert row.id is not None
        return cls(
            run_id=row.id,
            row=row,
            business_date=row.business_date,
            status=BillingRunStatus(row.status.value),
            chunks_total=row.chunks_total,
            chunks_done=row.chunks_done,
            chunks_failed=row.chunks_failed,
            loans=row.loans,
            accruals=row.accruals,
            bills=row.bills,
            changes=row.changes,
            notices=row.notices,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[BillingRunNode | None]:
        return visible_nodes(
            node_ids, lambda ids: resolvers.visible_runs(info.context, ids), cls.from_model
        )

    @strawberry.field(description="Milliseconds from queueing its chunks to the last one.")
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)

    @strawberry.field(description="The chunks that failed, with their errors.")
    def failures(self, info: Info) -> list[BillingFailure]:
        found: list[ChunkFailure] = (
            info.context.loader(resolvers.RunFailuresLoader).load(self.run_id) or []
        )
        return [
            BillingFailure(
                first_loan_id=f.first_loan_id, last_loan_id=f.last_loan_id, error=f.error
            )
            for f in found
        ]


@strawberry.input(description="Which business day to close (and every day before it not closed).")
class RunBillingInput:
    as_of: dt.date = strawberry.field(
        description="Close through this day, not after the business date. Days skipped since "
        "the last close are caught up first, day by day, in order."
    )


@strawberry.type(description="The runs of the days asked for, oldest first.")
class RunBillingSuccess:
    runs: list[BillingRunNode] = strawberry.field(description="One run per business day.")


@strawberry.input(description="The business date to pin (development and tests only).")
class SetBusinessDateInput:
    date: dt.date | None = strawberry.field(
        description="The new business date; null follows the clock (UTC) again."
    )


RunBillingResult = Annotated[
    RunBillingSuccess | InvalidInputError | NotAuthenticatedError | PermissionDeniedError,
    strawberry.union("RunBillingResult", description="The runs, or why not."),
]
SetBusinessDateResult = Annotated[
    BusinessDay | BusinessDateFixedError | NotAuthenticatedError | PermissionDeniedError,
    strawberry.union("SetBusinessDateResult", description="The business day, or why not."),
]


@strawberry.type
class BillingQueries:
    @strawberry.field(description="The business day; null when not signed in.")
    def business_day(self, info: Info) -> BusinessDay | None:
        row = resolvers.business_day(info.context)
        return BusinessDay.from_model(row, info.context.now().date()) if row is not None else None

    @strawberry.field(
        description="Close-of-business runs, oldest first (STAFF only).",
        permission_classes=[IsStaff],
    )
    def billing_runs(
        self, info: Info, first: PageSize = 20, after: AfterCursor = None
    ) -> Connection[BillingRunNode]:
        page = resolvers.runs_page(info.context, first, decode_cursor(after))
        return Connection[BillingRunNode].from_page(
            page, BillingRunNode.from_model, lambda row: row.id
        )

    @strawberry.field(description="One run by global id (STAFF only; null otherwise).")
    def billing_run(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Id.")]
    ) -> BillingRunNode | None:
        visible = partial(resolvers.visible_runs, info.context)
        return lookup_node(id, "BillingRun", visible, BillingRunNode.from_model)


@strawberry.type
class BillingMutations:
    @strawberry.mutation(
        description="STAFF: close business days through `asOf`: card interest accrues for "
        "each day and card bills are issued on their billing dates, by workers in parallel. "
        "Idempotent per (loan, day): a day closed twice changes nothing, and asking again "
        "for a day that failed retries its failed chunks. "
        "Follow progress with billingRun(id) or billingRuns."
    )
    def run_billing(
        self,
        info: Info,
        input: Annotated[RunBillingInput, strawberry.argument(description="Through which day.")],
    ) -> RunBillingResult:
        result = resolvers.run_billing(info.context, input.as_of)
        return outcome(
            result,
            lambda runs: RunBillingSuccess(runs=[BillingRunNode.from_model(r) for r in runs]),
        )

    @strawberry.mutation(
        description="STAFF, development and tests only: pin the business date (null follows "
        "the clock again). Production refuses with BUSINESS_DATE_FIXED."
    )
    def set_business_date(
        self,
        info: Info,
        input: Annotated[SetBusinessDateInput, strawberry.argument(description="The date.")],
    ) -> SetBusinessDateResult:
        result = resolvers.set_business_date(info.context, input.date)
        return outcome(result, lambda row: BusinessDay.from_model(row, info.context.now().date()))
