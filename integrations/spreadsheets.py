"""Reading the bank's files (xlsx workbooks, CSV) as a stream of rows of text.

Every cell becomes text as the sheet shows it (numbers to 15 significant digits, never
float arithmetic; dates as ISO dates), so the domain parses amounts as Decimals.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

Row = dict[str, str | None]


class UnreadableFile(Exception):
    """The file is missing, empty or not a workbook / CSV."""


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # 15 significant digits is all a float holds exactly; formula results such as
        # 10664.519999999999 read back as the 10664.52 the sheet shows.
        return format(value, ".15g")
    return str(value)


class TabularFile:
    """Headers, an estimate of the row count, and the rows numbered as a person counts them."""

    def __init__(self, headers: list[str], rows: Iterator[tuple[int, Row]], size: int | None):
        self.headers = headers
        self.rows = rows
        self.size = size


def _numbered(headers: list[str], values: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, Row]]:
    for number, cells in enumerate(values, start=2):
        if cells is None or all(c is None or str(c).strip() == "" for c in cells):
            continue
        padded = list(cells) + [None] * (len(headers) - len(cells))
        yield number, {h: _cell_text(v) for h, v in zip(headers, padded, strict=False)}


@contextmanager
def open_tabular(path: Path) -> Iterator[TabularFile]:
    """Stream a .xlsx (read-only mode, bounded memory) or .csv file."""
    if not path.is_file():
        raise UnreadableFile(f"{path} does not exist")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as error:
            raise UnreadableFile(f"{path.name} is not a readable workbook: {error}") from error
        try:
            sheet = workbook.worksheets[0]
            values = sheet.iter_rows(values_only=True)
            headers = [str(h).strip() if h is not None else "" for h in next(values, ())]
            size = (sheet.max_row - 1) if sheet.max_row else None
            yield TabularFile(headers, _numbered(headers, values), size)
        finally:
            workbook.close()
        return
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        headers = [h.strip() for h in next(reader, [])]
        if not headers:
            raise UnreadableFile(f"{path.name} is empty")
        size = max(sum(1 for _ in path.open("rb")) - 1, 0)
        yield TabularFile(headers, _numbered(headers, (tuple(r) for r in reader)), size)
