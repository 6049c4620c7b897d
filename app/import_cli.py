"""`lendgraph import ...` and `lendgraph generate-sample`: files in, with a progress bar."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.settings import get_settings
from domain.importing_runs import ImportKind, ImportRun, ImportStatus

imports = typer.Typer(help="Import the bank's historical files.", no_args_is_help=True)
console = Console(stderr=True)
FileArgument = Annotated[
    Path, typer.Argument(help="The file to import.", exists=True, dir_okay=False, readable=True)
]
Background = Annotated[
    bool, typer.Option("--background", help="Queue the import as a job instead.")
]
Report = Annotated[Path | None, typer.Option(help="Write every refused row to this CSV.")]


def _print_summary(run: ImportRun, report: Path | None) -> None:
    if run.status is ImportStatus.REFUSED:
        console.print(f"[red]refused {run.source}:[/red] {run.message}")
        raise typer.Exit(code=2)
    table = Table(title=f"{run.kind.value.lower()} from {run.source}")
    for column in ("read", "imported", "skipped", "failed"):
        table.add_column(column, justify="right")
    table.add_row(str(run.read), str(run.imported), str(run.skipped), str(run.failed))
    console.print(table)
    console.print(
        f"summary: read {run.read}, imported {run.imported}, skipped {run.skipped}, "
        f"failed {run.failed}",
        highlight=False,
    )
    for error in run.errors[:20]:
        console.print(f"  row {error['row']}: {error['reason']}")
    if run.failed > 20:
        console.print(f"  ... and {run.failed - 20} more")
    if report is not None:
        with report.open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(("row", "reason"))
            writer.writerows((e["row"], e["reason"]) for e in run.errors)
        console.print(f"refused rows written to {report}")


def _print_rescored(customers: int, embedded: bool) -> None:
    """Savings transactions re-score their customers: say how many, and whether it is done
    (embedded: the jobs just ran here) or queued for the worker processes."""
    noun = "customer" if customers == 1 else "customers"
    if embedded:
        console.print(f"re-scored {customers} {noun} (transaction scores)", highlight=False)
    else:
        console.print(
            f"queued the re-scoring of {customers} {noun} (transaction scores) for the workers",
            highlight=False,
        )


def _run(kind: ImportKind, path: Path, background: bool, report: Path | None) -> None:
    from app.logging import configure_logging
    from app.runtime import Runtime
    from domain.outbox import emit_job
    from domain.unit_of_work import UnitOfWork
    from workers.importing import run_import

    settings = get_settings()
    configure_logging("WARNING", settings.log_json)  # the progress bar and summary say it all
    runtime = Runtime.build(settings)
    try:
        if background:
            with runtime.session_factory() as session:
                uow = UnitOfWork(session, runtime.dispatcher.dispatch)
                emit_job(session, "import_file", kind=kind.value, path=str(path.resolve()))
                uow.commit()
            console.print(f"queued the import of {path.name}; follow it in importRuns")
            return
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task(f"importing {path.name}", total=None)
            run = run_import(
                runtime.session_factory,
                kind,
                path,
                runtime.dispatcher.dispatch,
                on_start=lambda size: progress.update(task, total=size),
                on_progress=lambda rows: progress.advance(task, rows),
            )
        _print_summary(run, report)
        runtime.run_pending_jobs()
        if kind is ImportKind.TRANSACTIONS:
            _print_rescored(run.customers_rescored, runtime.settings.embedded_broker)
    finally:
        runtime.close()


@imports.command("customers")
def import_customers(
    file: FileArgument, background: Background = False, report: Report = None
) -> None:
    """Import customers (xlsx: Customer ID, First Name, Last Name, Age, Phone Number,
    Monthly Salary, Approved Limit)."""
    _run(ImportKind.CUSTOMERS, file, background, report)


@imports.command("loans")
def import_loans(file: FileArgument, background: Background = False, report: Report = None) -> None:
    """Import historic loans (xlsx: Customer ID, Loan ID, Loan Amount, Tenure, Interest Rate,
    Monthly payment, EMIs paid on Time, Date of Approval, End Date)."""
    _run(ImportKind.LOANS, file, background, report)


@imports.command("transactions")
def import_transactions(
    file: FileArgument, background: Background = False, report: Report = None
) -> None:
    """Import savings transactions (csv: user,date,transaction_type,amount)."""
    _run(ImportKind.TRANSACTIONS, file, background, report)


def generate_sample(
    out: Annotated[Path, typer.Option(help="Folder to write the files into.")],
    customers: Annotated[int, typer.Option(min=1, help="Customers to invent.")] = 300,
    loans: Annotated[int | None, typer.Option(help="Loans (default: customers × 8/3).")] = None,
    transactions: Annotated[
        int | None, typer.Option(help="Transaction rows (default: customers × 50/3).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = 7,
) -> None:
    """Write customer_data.xlsx, loan_data.xlsx and transactions.csv in the bank's formats."""
    from integrations.sample_files import generate_sample as generate

    files = generate(
        out,
        customers=customers,
        loans=loans or customers * 8 // 3,
        transactions=transactions or customers * 50 // 3,
        seed=seed,
    )
    console.print(f"wrote {files.customers}, {files.loans} and {files.transactions}")
