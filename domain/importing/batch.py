"""What every importer gets with a batch of rows, and the contract it fulfils."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlmodel import Session

from domain.importing.cells import Row
from domain.importing_runs import ImportKind, ImportTally

NumberedRow = tuple[int, Row]  # (row number as a person counts it, cells by header)


@dataclass(frozen=True)
class BatchContext:
    currency: str
    today: date
    now: datetime
    file_digest: str


class Importer(Protocol):
    @property
    def kind(self) -> ImportKind: ...

    @property
    def headers(self) -> tuple[str, ...]: ...

    def import_batch(
        self, session: Session, rows: list[NumberedRow], context: BatchContext
    ) -> ImportTally: ...
