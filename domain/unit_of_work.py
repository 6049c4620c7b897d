"""The unit of work: one use case, one transaction; messages leave only after commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from domain.outbox import OutboxMessage

OUTBOX_IDS = "lendgraph.outbox_ids"

AfterCommit = Callable[[list[str]], object]


def _remember_outbox_messages(session: Session, flush_context: Any, instances: Any) -> None:
    ids = [obj.id for obj in session.new if isinstance(obj, OutboxMessage)]
    if ids:
        session.info.setdefault(OUTBOX_IDS, []).extend(ids)


def _forget_outbox_messages(session: Session, *_: Any) -> None:
    session.info.pop(OUTBOX_IDS, None)


def track_outbox(factory: sessionmaker[Session]) -> None:
    """Make sessions from `factory` note the outbox messages they write."""
    event.listen(factory, "before_flush", _remember_outbox_messages)
    event.listen(factory, "after_soft_rollback", _forget_outbox_messages)


class UnitOfWork:
    """Wraps a session: `commit()` commits and then hands the new outbox ids to dispatch."""

    def __init__(self, session: Session, after_commit: AfterCommit | None = None) -> None:
        self.session = session
        self._after_commit = after_commit

    def commit(self) -> None:
        self.session.flush()
        ids = list(self.session.info.pop(OUTBOX_IDS, []))
        self.session.commit()
        if ids and self._after_commit is not None:
            self._after_commit(ids)

    def rollback(self) -> None:
        self.session.rollback()
        self.session.info.pop(OUTBOX_IDS, None)

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """Roll back unless `commit()` was called; the session stays usable afterwards."""
        try:
            yield self
        finally:
            if self.session.in_transaction():
                self.rollback()
