"""What actors need at run time (sessions, dispatch), installed once by the composition root."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from domain.core_banking import CoreBanking
from domain.notifications import EmailSender
from domain.scoring.external import ScoringEngine
from domain.scoring.progress import RetryPolicy
from domain.unit_of_work import UnitOfWork


@dataclass
class WorkerRuntime:
    session_factory: sessionmaker[Session]
    after_commit: Callable[[list[str]], object]
    scoring_engine: ScoringEngine | None = None
    core_banking: CoreBanking | None = None
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    billing_chunk_size: int = 1000
    email_sender: EmailSender | None = None

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


def installed() -> bool:
    return _runtime is not None


def current() -> WorkerRuntime:
    if _runtime is None:
        raise RuntimeError("the worker runtime is not installed; start through `lendgraph`")
    return _runtime
