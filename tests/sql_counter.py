"""Counting SQL statements, to prove a request's query count does not grow with its data."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, event


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return len(self.statements)

    def record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        with self._lock:
            self.statements.append(statement)


@contextlib.contextmanager
def count_statements(engine: Engine) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter.record)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter.record)
