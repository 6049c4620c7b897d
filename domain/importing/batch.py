"""What every importer gets with a batch of rows, and the contract it fulfils."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypeVar

from sqlmodel import Session

from domain.importing.cells import BadCell, Row
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


T = TypeVar("T")


def parse_rows(
    rows: list[NumberedRow], parse: Callable[[int, Row], T]
) -> tuple[list[tuple[int, T]], ImportTally]:
    """Each row read, or refused with the reason its bad cell gives."""
    tally = ImportTally(read=len(rows))
    parsed = []
    for number, row in rows:
        try:
            parsed.append((number, parse(number, row)))
        except BadCell as problem:
            tally.refuse(number, str(problem))
    return parsed, tally
