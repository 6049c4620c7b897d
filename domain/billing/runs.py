"""Close-of-business runs: one per business day, split by loan-id ranges into chunks that
workers close in parallel, each chunk in its own transaction. Days close in order; a day
asked for twice is one run; a chunk closed twice (redelivered, or after a crash) changes
nothing, because every rule it applies is keyed by (loan, day)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select, update

from domain.billing.accrual import accrue_card_interest
from domain.billing.bills import issue_bills
from domain.billing.calendar import business_date, calendar, days_between
from domain.billing.delinquency import mark_delinquency, open_loans
from domain.billing.reminders import remind
from domain.errors import FieldProblem, InvalidInput
from domain.loans import Loan, LoanStatus
from domain.outbox import emit_job, has_undispatched
from domain.pagination import Page, page_by_id
from domain.products import LoanProduct, RepaymentStyle
from domain.tables import timestamp_column
from domain.upsert import insert_ignoring_conflicts

OPEN_ACTOR = "open_billing_run"
CHUNK_ACTOR = "close_billing_chunk"
MAX_CATCH_UP_DAYS = 366
OPEN_STATUSES = (LoanStatus.ACTIVE, LoanStatus.OVERDUE, LoanStatus.APPROVED)
CATCH_UP_REACH = timedelta(days=MAX_CATCH_UP_DAYS - 1)


class RunStatus(enum.StrEnum):
    PENDING = "PENDING"  # waiting for the days before it
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"  # some chunks failed; asking for the day again retries them


class ChunkStatus(enum.StrEnum):
    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"


class BillingRun(SQLModel, table=True):
    __tablename__ = "billing_runs"

    id: int | None = Field(default=None, primary_key=True)
    business_date: date = Field(sa_column_kwargs={"unique": True, "nullable": False})
    status: RunStatus = Field(
        sa_type=sa.Enum(RunStatus, name="billing_run_status", native_enum=False, length=16)
    )
    chunks_total: int = 0
    chunks_done: int = 0
    chunks_failed: int = 0
    loans: int = 0  # loans in the chunks closed so far
    accruals: int = 0
    bills: int = 0
    changes: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    notices: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(sa_column=timestamp_column())
    started_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class BillingChunk(SQLModel, table=True):
    __tablename__ = "billing_chunks"
    __table_args__ = (sa.UniqueConstraint("run_id", "first_loan_id", name="uq_chunk_range"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="billing_runs.id", index=True)
    first_loan_id: int
    last_loan_id: int
    loans: int
    status: ChunkStatus = Field(
        sa_type=sa.Enum(ChunkStatus, name="billing_chunk_status", native_enum=False, length=16)
    )
    accruals: int = 0
    bills: int = 0
    changes: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # loans changed
    notices: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    error: str | None = Field(default=None, max_length=1000)
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


@dataclass(frozen=True)
class ChunkFailure:
    first_loan_id: int
    last_loan_id: int
    error: str


def _first_open_day(session: Session, closed: date | None, through: date) -> date:
    """The day after the last one closed. Before any day closed: the first day asked for, or
    earlier if a card loan was paid out before it — its interest accrues and its bills fall
    due from the day after disbursement (§4), whenever the bank first closes."""
    if closed is not None:
        return closed + timedelta(days=1)
    earliest = session.exec(select(sa.func.min(BillingRun.business_date))).one()
    if earliest is not None:
        if through < earliest:
            raise InvalidInput(
                [FieldProblem("asOf", f"not before the first business day {earliest}")]
            )
        return earliest
    cards = session.exec(
        select(sa.func.min(Loan.start_date))
        .join(LoanProduct, col(LoanProduct.id) == col(Loan.product_id))
        .where(
            col(LoanProduct.repayment_style) == RepaymentStyle.REVOLVING,
            col(Loan.status) == LoanStatus.ACTIVE,  # a card still owing, billed as of the day
        )
    ).one()
    if cards is None:
        return through
    # No further back than a catch-up may reach: a bill's own cycle is accrued in full by
    # the bill whatever was closed before it (domain/billing/bills.py).
    return max(min(through, cards + timedelta(days=1)), through - CATCH_UP_REACH)


def request_close(session: Session, through: date, now: datetime) -> list[BillingRun]:
    """Close every business day not yet closed, up to `through`, in order (a skipped day is
    caught up first). Returns the runs of those days; asking again changes nothing."""
    today = business_date(session, now)
    if through >= today:  # a day is closed once it is over, never while it goes on
        raise InvalidInput(
            [FieldProblem("asOf", f"a day before the business date {today} (it is not over)")]
        )
    closed = calendar(session, now).closed_through
    if closed is not None and through <= closed:
        return _runs_between(session, through, through)
    first = _first_open_day(session, closed, through)
    if (through - first).days >= MAX_CATCH_UP_DAYS:
        raise InvalidInput([FieldProblem("asOf", f"at most {MAX_CATCH_UP_DAYS} days to catch up")])
    rows: list[dict[str, Any]] = [
        {"business_date": day, "status": RunStatus.PENDING, "created_at": now}
        for day in days_between(first, through)
    ]
    insert_ignoring_conflicts(session, BillingRun, rows)
    _retry_failed(session, first, through)
    resume_stalled_runs(session, now, timedelta(0))  # a worker died mid-chunk: go on
    return _runs_between(session, first, through)


def _runs_between(session: Session, first: date, last: date) -> list[BillingRun]:
    return list(
        session.exec(
            select(BillingRun)
            .where(col(BillingRun.business_date).between(first, last))
            .order_by(col(BillingRun.business_date))
        ).all()
    )


def _retry_failed(session: Session, first: date, last: date) -> None:
    for seen in _runs_between(session, first, last):
        run = session.exec(
            select(BillingRun)
            .where(BillingRun.id == seen.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if run.status is not RunStatus.FAILED:  # re-checked under the lock: retried once
            continue
        chunks = session.exec(
            select(BillingChunk).where(
                BillingChunk.run_id == run.id, col(BillingChunk.status) == ChunkStatus.FAILED
            )
        ).all()
        for chunk in chunks:
            chunk.status, chunk.error = ChunkStatus.PENDING, None
            session.add(chunk)
            emit_job(session, CHUNK_ACTOR, chunk_id=chunk.id)
        run.status, run.chunks_failed, run.finished_at = RunStatus.RUNNING, 0, None
        session.add(run)


def _start_next(session: Session, now: datetime) -> None:
    """Queue the earliest day waiting, unless a day before it is still being closed."""
    busy = select(BillingRun.id).where(
        col(BillingRun.status).in_([RunStatus.RUNNING, RunStatus.FAILED])
    )
    if session.exec(busy).first() is not None:
        return
    waiting = session.exec(
        select(BillingRun)
        .where(col(BillingRun.status) == RunStatus.PENDING)
        .order_by(col(BillingRun.business_date))
    ).first()
    if waiting is not None:
        emit_job(session, OPEN_ACTOR, run_id=waiting.id)


def _ranges(session: Session, size: int) -> list[tuple[int, int, int]]:
    """(first id, last id, loans) of each chunk of `size` loans still open."""
    ids = session.exec(
        select(Loan.id).where(col(Loan.status).in_(OPEN_STATUSES)).order_by(col(Loan.id))
    ).all()
    known = [i for i in ids if i is not None]
    return [
        (known[start], known[min(start + size, len(known)) - 1], len(known[start : start + size]))
        for start in range(0, len(known), size)
    ]


def open_run(session: Session, run_id: int, chunk_size: int, now: datetime) -> int:
    """Split the day into chunks and queue them; how many. Only the earliest day waiting is
    opened, so days close in order."""
    run = session.exec(
        select(BillingRun).where(BillingRun.id == run_id).with_for_update()
    ).one_or_none()
    if run is None or run.status is not RunStatus.PENDING:
        return 0
    earlier = select(BillingRun.id).where(
        col(BillingRun.business_date) < run.business_date,
        col(BillingRun.status) != RunStatus.COMPLETED,
    )
    if session.exec(earlier).first() is not None:
        return 0
    ranges = _ranges(session, chunk_size)
    chunks = [
        BillingChunk(
            run_id=run_id, first_loan_id=a, last_loan_id=b, loans=n, status=ChunkStatus.PENDING
        )
        for a, b, n in ranges
    ]
    session.add_all(chunks)
    run.status, run.started_at, run.chunks_total = RunStatus.RUNNING, now, len(chunks)
    session.add(run)
    session.flush()
    for chunk in chunks:
        emit_job(session, CHUNK_ACTOR, chunk_id=chunk.id)
    if not chunks:
        _finish(session, run, now)
    return len(chunks)


def claim_chunk(session: Session, near: int) -> int | None:
    """A pending chunk of chunk `near`'s day that no one is closing — `near` itself if free —
    locked for this transaction; None when none is left. The row lock is the claim: it ends
    with the transaction that closes the chunk, or with the connection of a worker killed
    mid-chunk, so a chunk is never held by a dead worker nor closed by two at once."""
    run_id = session.exec(select(BillingChunk.run_id).where(BillingChunk.id == near)).first()
    if run_id is None:
        return None
    first = sa.case((col(BillingChunk.id) == near, 0), else_=1)
    return session.exec(
        select(BillingChunk.id)
        .where(BillingChunk.run_id == run_id, col(BillingChunk.status) == ChunkStatus.PENDING)
        .order_by(first, col(BillingChunk.id))
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()


def close_chunk(session: Session, chunk_id: int, now: datetime) -> bool:
    """Apply the day's rules to the chunk's loans; false if it was closed already."""
    chunk = session.exec(
        select(BillingChunk).where(BillingChunk.id == chunk_id).with_for_update()
    ).one_or_none()
    if chunk is None or chunk.status is not ChunkStatus.PENDING:
        return False
    run = session.get(BillingRun, chunk.run_id)
    assert run is not None
    span = (chunk.first_loan_id, chunk.last_loan_id, run.id)
    accrued = accrue_card_interest(session, [run.business_date], *span)
    billed = issue_bills(session, run.business_date, *span, now=now)
    chunk.accruals, chunk.bills = accrued + billed.accruals, billed.bills
    book = open_loans(session, chunk.first_loan_id, chunk.last_loan_id)
    chunk.changes = mark_delinquency(session, book, run.business_date, now)
    chunk.notices = remind(session, book, run.business_date, now)
    chunk.status, chunk.finished_at = ChunkStatus.DONE, now
    session.add(chunk)
    _count(session, chunk, done=1, failed=0, now=now)
    return True


def fail_chunk(session: Session, chunk_id: int, error: str, now: datetime) -> None:
    """Record why a chunk could not be closed (its own transaction rolled back)."""
    chunk = session.exec(
        select(BillingChunk).where(BillingChunk.id == chunk_id).with_for_update()
    ).one_or_none()
    if chunk is None or chunk.status is not ChunkStatus.PENDING:
        return
    chunk.status, chunk.error, chunk.finished_at = ChunkStatus.FAILED, error[:1000], now
    session.add(chunk)
    _count(session, chunk, done=0, failed=1, now=now)


def _count(session: Session, chunk: BillingChunk, *, done: int, failed: int, now: datetime) -> None:
    session.exec(
        update(BillingRun)
        .where(col(BillingRun.id) == chunk.run_id)
        .values(
            chunks_done=BillingRun.chunks_done + done,
            chunks_failed=BillingRun.chunks_failed + failed,
            loans=BillingRun.loans + (chunk.loans if done else 0),
            accruals=BillingRun.accruals + chunk.accruals,
            bills=BillingRun.bills + chunk.bills,
            changes=BillingRun.changes + chunk.changes,
            notices=BillingRun.notices + chunk.notices,
        )
    )
    # The UPDATE holds the run's row (FOR NO KEY UPDATE) until commit, so this read sees
    # every chunk counted before ours. Locking it again FOR UPDATE would deadlock with the
    # KEY SHARE locks other chunks' accrual and bill rows take on it (their run_id FK).
    run = session.exec(
        select(BillingRun)
        .where(BillingRun.id == chunk.run_id)
        .execution_options(populate_existing=True)
    ).one()
    if run.chunks_done + run.chunks_failed == run.chunks_total:
        _finish(session, run, now)


def _finish(session: Session, run: BillingRun, now: datetime) -> None:
    run.finished_at = now
    if run.chunks_failed:
        run.status = RunStatus.FAILED
        session.add(run)
        return
    run.status = RunStatus.COMPLETED
    session.add(run)
    books = calendar(session, now, lock=True)
    if books.closed_through is None or books.closed_through < run.business_date:
        books.closed_through, books.updated_at = run.business_date, now
        session.add(books)
    session.flush()
    _start_next(session, now)


def resume_stalled_runs(session: Session, now: datetime, idle_for: timedelta) -> int:
    """Queue again the chunks of runs that stalled — chunks wait, no one is closing any, and
    none finished for `idle_for` — and the next day if nothing is running. Their jobs were
    lost: a process stopped, the broker or database went away. A copy of a job that was only
    slow finds its chunk closed."""
    running = session.exec(
        select(BillingRun.id, BillingRun.started_at).where(
            col(BillingRun.status) == RunStatus.RUNNING
        )
    ).all()
    resumed = 0
    for run_id, started_at in running:
        for chunk_id in _stalled_chunks(session, run_id, started_at, now - idle_for):
            emit_job(session, CHUNK_ACTOR, chunk_id=chunk_id)
            resumed += 1
    if not has_undispatched(session, OPEN_ACTOR):  # while Redis is away, one waits for it
        _start_next(session, now)
    return resumed


def _stalled_chunks(
    session: Session, run_id: int | None, started_at: datetime | None, idle_since: datetime
) -> list[int]:
    last = session.exec(
        select(sa.func.max(BillingChunk.finished_at)).where(BillingChunk.run_id == run_id)
    ).one()
    moved = [t for t in (started_at, last) if t is not None]
    if moved and max(moved) > idle_since:
        return []  # it moved lately
    waiting = select(BillingChunk.id).where(
        BillingChunk.run_id == run_id, col(BillingChunk.status) == ChunkStatus.PENDING
    )
    count = session.exec(select(sa.func.count()).select_from(waiting.subquery())).one()
    free = list(session.exec(waiting.with_for_update(skip_locked=True)).all())
    if len(free) < count:
        return []  # a worker is closing one, and goes on to the others after it
    return [i for i in free if i is not None]


def failures_of(session: Session, run_ids: list[int]) -> dict[int, list[ChunkFailure]]:
    grouped: dict[int, list[ChunkFailure]] = {i: [] for i in run_ids}
    if run_ids:
        for chunk in session.exec(
            select(BillingChunk)
            .where(
                col(BillingChunk.run_id).in_(run_ids),
                col(BillingChunk.status) == ChunkStatus.FAILED,
            )
            .order_by(col(BillingChunk.first_loan_id))
        ):
            grouped[chunk.run_id].append(
                ChunkFailure(chunk.first_loan_id, chunk.last_loan_id, chunk.error or "")
            )
    return grouped


def runs_page(session: Session, first: int, after: int | None) -> Page[BillingRun]:
    return page_by_id(session, select(BillingRun), BillingRun.id, first, after)
