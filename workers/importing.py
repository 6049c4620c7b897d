"""Running an import: stream the file, one transaction per batch, a run row that tells all.

Used by `lendgraph import` (with a progress bar) and by the import actors alike. A crash
leaves the committed batches in place; running the file again skips them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from itertools import islice
from pathlib import Path
from typing import TypeVar

import structlog
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from domain.billing.calendar import business_date
from domain.importing.batch import BatchContext
from domain.importing.cells import header_problem
from domain.importing.kinds import IMPORTERS
from domain.importing_runs import ImportKind, ImportRun, ImportStatus, ImportTally
from domain.tables import utcnow
from domain.unit_of_work import AfterCommit, UnitOfWork
from integrations.spreadsheets import file_digest, open_tabular

log = structlog.get_logger(__name__)
T = TypeVar("T")
BATCH_SIZE = 1000


def _batches(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(islice(items, size)):
        yield batch


def _save(
    sessions: sessionmaker[Session],
    run: ImportRun,
    tally: ImportTally,
    status: ImportStatus,
    message: str | None = None,
) -> ImportRun:
    with sessions() as session:
        run.record(tally, status, utcnow())
        run.message = message
        run = session.merge(run)
        session.commit()
        return run


def _business_date(sessions: sessionmaker[Session]) -> date:
    """The books' date the rows are read as of (imported loans end on or after it)."""
    with sessions() as session:
        return business_date(session, utcnow())


def run_import(
    sessions: sessionmaker[Session],
    kind: ImportKind,
    path: Path,
    after_commit: AfterCommit | None = None,
    *,
    currency: str = "INR",
    on_start: Callable[[int | None], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportRun:
    importer = IMPORTERS[kind]
    digest = file_digest(path)
    run = _save(
        sessions,
        ImportRun(kind=kind, source=path.name, file_digest=digest, status=ImportStatus.RUNNING),
        ImportTally(),
        ImportStatus.RUNNING,
    )
    tally = ImportTally()
    log.info("import_started", kind=kind.value, source=path.name, run_id=run.id)
    try:
        with open_tabular(path) as table:
            problem = header_problem(table.headers, importer.headers)
            if problem:
                return _save(sessions, run, tally, ImportStatus.REFUSED, problem)
            if on_start:
                on_start(table.size)
            context = BatchContext(currency, _business_date(sessions), utcnow(), digest)
            for batch in _batches(table.rows, batch_size):
                with sessions() as session:
                    uow = UnitOfWork(session, after_commit)
                    with uow.transaction():
                        tally.add(importer.import_batch(session, batch, context))
                        run.record(tally, ImportStatus.RUNNING, utcnow())
                        session.merge(run)
                        uow.commit()
                if on_progress:
                    on_progress(len(batch))
    except Exception as error:
        log.exception("import_failed", run_id=run.id)
        _save(sessions, run, tally, ImportStatus.FAILED, f"stopped: {error}"[:2000])
        raise
    run = _save(sessions, run, tally, ImportStatus.COMPLETED)
    log.info(
        "import_finished",
        run_id=run.id,
        read=tally.read,
        imported=tally.imported,
        skipped=tally.skipped,
        failed=tally.failed,
    )
    return run


SEED_FILES = (
    (ImportKind.CUSTOMERS, "customer_data.xlsx"),
    (ImportKind.LOANS, "loan_data.xlsx"),
    (ImportKind.TRANSACTIONS, "transactions.csv"),
)


def seed_from_folder(
    sessions: sessionmaker[Session], folder: Path, after_commit: AfterCommit | None = None
) -> list[ImportRun]:
    """Import whichever of the seed files the folder holds, customers first."""
    return [
        run_import(sessions, kind, folder / name, after_commit)
        for kind, name in SEED_FILES
        if (folder / name).is_file()
    ]
