"""`lendgraph billing run --as-of DATE`: close business days from the command line, with a
progress bar. Embedded (no REDIS_URL) this process does the work; with Redis the workers do
and this command follows them."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.settings import get_settings

if TYPE_CHECKING:
    from app.runtime import Runtime
    from domain.billing.runs import BillingRun

billing_cli = typer.Typer(help="The daily close of business.", no_args_is_help=True)
console = Console(stderr=True)
FINISHED = ("COMPLETED", "FAILED")


def _request(runtime: Runtime, as_of: date | None) -> list[int]:
    from domain.billing.calendar import business_date
    from domain.billing.runs import request_close
    from domain.errors import DomainError
    from domain.tables import utcnow
    from domain.unit_of_work import UnitOfWork

    with runtime.session_factory() as session:
        uow = UnitOfWork(session, runtime.dispatcher.dispatch)
        with uow.transaction():
            day = as_of or business_date(session, utcnow()) - timedelta(days=1)
            try:
                runs = request_close(session, day, utcnow())
            except DomainError as error:
                console.print(f"[red]{error.message}[/red]")
                raise typer.Exit(code=1) from None
            uow.commit()
    return [run.id for run in runs if run.id is not None]


def _follow(runtime: Runtime, ids: list[int], timeout: float) -> list[BillingRun]:
    from domain.billing.runs import BillingRun
    from domain.origination import by_ids

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    deadline = time.monotonic() + timeout
    with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("closing business days", total=len(ids))
        while True:
            with runtime.session_factory() as session:
                runs = list(by_ids(session, BillingRun, ids).values())
            done = [r for r in runs if r.status.value in FINISHED]
            current = next((r for r in runs if r.status.value == "RUNNING"), None)
            label = f"closing {current.business_date}" if current else "closing business days"
            bar.update(task, completed=len(done), description=label)
            if len(done) == len(ids) or time.monotonic() > deadline:
                return sorted(runs, key=lambda r: r.business_date)
            _relay(runtime)
            time.sleep(0.2)


def _relay(runtime: Runtime) -> None:
    """Hand on what the close queued; with Redis away, keep following (the workers wait too)."""
    from workers.outbox import BrokerUnavailable

    try:
        runtime.dispatcher.relay(limit=1000, older_than=timedelta(seconds=5))
    except BrokerUnavailable as error:
        console.print(f"[yellow]the job queue is unreachable, still waiting: {error}[/yellow]")


@billing_cli.command("run")
def run(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Close through this day (YYYY-MM-DD); default yesterday."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Give up following after this many s.")] = 3600,
) -> None:
    """Close business days through --as-of (catching up skipped days in order)."""
    from app.logging import configure_logging
    from app.runtime import Runtime

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter("--as-of must be a date, YYYY-MM-DD") from None
    settings = get_settings()
    configure_logging("WARNING", settings.log_json)
    runtime = Runtime.build(settings)
    try:
        if settings.embedded_broker:
            runtime.start_worker(threads=2)
        runs = _follow(runtime, _request(runtime, day), timeout)
    finally:
        runtime.close()
    table = Table("business day", "status", "chunks", "loans", "accruals", "failed chunks")
    for r in runs:
        table.add_row(
            str(r.business_date),
            r.status.value,
            str(r.chunks_total),
            str(r.loans),
            str(r.accruals),
            str(r.chunks_failed),
        )
    console.print(table)
    if any(r.status.value != "COMPLETED" for r in runs):
        raise typer.Exit(code=1)
