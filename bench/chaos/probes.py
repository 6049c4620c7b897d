"""What the fault run reads from the book's database: payments stored, the events they
raised, the outbox and email backlog, the scheduler's leadership and the close's progress.
Each read opens its own connection, so a probe made while PostgreSQL is away fails alone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from app.db import make_session_factory
from domain.outbox import emit_event
from workers.scheduler import LEADER_LOCK_KEY

EventKey = tuple[str, int]  # (loan number, the loan's event sequence)


@dataclass(frozen=True)
class CloseProgress:
    status: str | None
    chunks_done: int
    chunks_total: int


class Probes:
    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, poolclass=NullPool)

    def _rows(self, query: str, **values: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.text(query), values))

    def _count(self, query: str) -> int:
        return int(self._rows(query)[0][0])

    def stored_payments(self, prefix: str) -> dict[str, int]:
        """Idempotency key -> payment id, of the payments whose keys start with `prefix`."""
        rows = self._rows(
            "SELECT idempotency_key, id FROM payments WHERE idempotency_key LIKE :p",
            p=f"{prefix}%",
        )
        return {key: pid for key, pid in rows}

    def payment_events(self, prefix: str) -> set[EventKey]:
        """The paymentReceived events the outbox holds for those payments."""
        rows = self._rows(
            "SELECT o.payload->>'loanNumber', o.payload->>'sequence' FROM outbox o "
            "JOIN payments p ON p.id = CAST(o.payload->>'paymentId' AS bigint) "
            "WHERE o.kind = 'EVENT' AND o.name = 'paymentReceived' "
            "AND p.idempotency_key LIKE :p",
            p=f"{prefix}%",
        )
        return {(number, int(sequence)) for number, sequence in rows}

    def undispatched(self) -> int:
        return self._count("SELECT count(*) FROM outbox WHERE dispatched_at IS NULL")

    def undispatched_by_name(self) -> dict[str, int]:
        rows = self._rows(
            "SELECT name, count(*) FROM outbox WHERE dispatched_at IS NULL GROUP BY name"
        )
        return dict(rows)

    def emails_pending(self) -> int:
        """Notifications to customers with an address that have not gone out by email."""
        return self._count(
            "SELECT count(*) FROM notifications n JOIN customers c ON c.user_id = n.user_id "
            "WHERE c.email IS NOT NULL AND n.emailed_at IS NULL"
        )

    def emails_pending_by_job(self) -> dict[str, int]:
        """The notifications still to email, by what became of their job in the outbox."""
        rows = self._rows(
            "SELECT CASE WHEN o.id IS NULL THEN 'no job' WHEN o.dispatched_at IS NULL THEN "
            "'job still in the outbox' ELSE 'job handed to Redis, never done' END, count(*) "
            "FROM notifications n JOIN customers c ON c.user_id = n.user_id "
            "LEFT JOIN outbox o ON o.name = 'deliver_notification' "
            "AND CAST(o.payload->>'notification_id' AS bigint) = n.id "
            "WHERE c.email IS NOT NULL AND n.emailed_at IS NULL GROUP BY 1"
        )
        return dict(rows)

    def leader(self) -> int | None:
        """The database backend holding the scheduler's leader lock, if one does."""
        rows = self._rows(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = 0 AND objid = CAST(:key AS oid) AND objsubid = 1",
            key=LEADER_LOCK_KEY,
        )
        return int(rows[0][0]) if rows else None

    def terminate_backends_of(self, pid: int) -> int:
        """pg_terminate_backend on every connection process `pid` holds to the database."""
        ports = sorted(_local_tcp_ports(pid))
        if not ports:
            return 0
        rows = self._rows(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE client_addr = '127.0.0.1' AND client_port = ANY(:ports)",
            ports=ports,
        )
        return sum(1 for (done,) in rows if done)

    def emit_canary(self) -> str:
        """An event nobody listens to, left undispatched as after a failed send: only the
        scheduler's outbox relay will ever send it."""
        with make_session_factory(self.engine)() as session:
            message = emit_event(session, "chaosCanary", note="sent by the relay")
            session.commit()
            return message.id

    def dispatched(self, message_id: str) -> bool:
        rows = self._rows("SELECT dispatched_at FROM outbox WHERE id = :id", id=message_id)
        return bool(rows) and rows[0][0] is not None

    def close_progress(self) -> CloseProgress:
        rows = self._rows(
            "SELECT status, chunks_done, chunks_total FROM billing_runs ORDER BY id DESC LIMIT 1"
        )
        if not rows:
            return CloseProgress(None, 0, 0)
        return CloseProgress(*rows[0])

    def dispose(self) -> None:
        self.engine.dispose()


def _local_tcp_ports(pid: int) -> set[int]:
    """The local ports of the TCP sockets process `pid` has open (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
