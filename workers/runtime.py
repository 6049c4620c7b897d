"""What actors need at run time (sessions, dispatch), installed once by the composition root."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from domain.unit_of_work import UnitOfWork


@dataclass
class WorkerRuntime:
    session_factory: sessionmaker[Session]
    after_commit: Callable[[list[str]], object]

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        with self.session_factory() as session:
            uow = UnitOfWork(session, self.after_commit)
            with uow.transaction():
                yield uow


_runtime: WorkerRuntime | None = None


def install(runtime: WorkerRuntime) -> None:
    global _runtime  # noqa: PLW0603 - one runtime per process, set by the composition root
    _runtime = runtime


def current() -> WorkerRuntime:
    if _runtime is None:
        raise RuntimeError("the worker runtime is not installed; start through `lendgraph`")
    return _runtime
