"""The transactional outbox: jobs and events a use case emits, stored in its own transaction.

Nothing leaves the process until the transaction commits; a relay re-sends whatever was not
marked dispatched. Consumers claim each message id once (`claim_message`), so a message sent
twice still takes effect once.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, Session, SQLModel, col, select, update

from domain.tables import timestamp_column, utcnow
from domain.upsert import insert_ignoring_conflicts


class MessageKind(enum.StrEnum):
    JOB = "JOB"  # a background job: `name` is the actor to run
    EVENT = "EVENT"  # a fact for subscribers: `name` is the event topic


UNFINISHED_JOB = "kind = 'JOB' AND dispatched_at IS NOT NULL AND completed_at IS NULL"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index(
            "ix_outbox_pending",
            "created_at",
            sqlite_where=sa.text("dispatched_at IS NULL"),
            postgresql_where=sa.text("dispatched_at IS NULL"),
        ),
        # Event hubs catching up after a lost connection read what was sent since then.
        sa.Index("ix_outbox_dispatched_at", "dispatched_at"),
        sa.Index(
            "ix_outbox_unfinished_jobs",
            "dispatched_at",
            sqlite_where=sa.text(UNFINISHED_JOB),
            postgresql_where=sa.text(UNFINISHED_JOB),
        ),
    )

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, primary_key=True, max_length=32)
    kind: MessageKind = Field(
        sa_type=sa.Enum(MessageKind, name="outbox_kind", native_enum=False, length=8)
    )
    name: str = Field(max_length=128)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    dispatched_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    # After a failed send: not before this (exponential backoff, so failing messages
    # never starve the others).
    retry_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    # A job not to run before this moment (a retry with backoff); the broker holds it.
    deliver_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    # When a worker finished the job (it succeeded, or failed for good). A job sent long ago
    # that no worker finished was lost on the way (inside Redis, with a killed worker) and is
    # sent again (`requeue_lost_jobs`).
    completed_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class ProcessedMessage(SQLModel, table=True):
    """Which consumer has already applied which message (the consumer side of exactly-once)."""

    __tablename__ = "processed_messages"

    message_id: str = Field(primary_key=True, max_length=64)
    consumer: str = Field(primary_key=True, max_length=128)
    processed_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


@dataclass(frozen=True)
class PendingMessage:
    """An outbox message as handed to a dispatcher."""

    id: str
    kind: MessageKind
    name: str
    payload: dict[str, Any]
    attempts: int = 0
    deliver_at: datetime | None = None


def emit_job(
    session: Session, actor_name: str, *, deliver_at: datetime | None = None, **payload: Any
) -> OutboxMessage:
    message = OutboxMessage(
        kind=MessageKind.JOB, name=actor_name, payload=payload, deliver_at=deliver_at
    )
    session.add(message)
    return message


def emit_event(session: Session, topic: str, **payload: Any) -> OutboxMessage:
    message = OutboxMessage(kind=MessageKind.EVENT, name=topic, payload=payload)
    session.add(message)
    return message


MAX_BACKOFF = timedelta(hours=1)


def _pending(row: OutboxMessage) -> PendingMessage:
    return PendingMessage(
        row.id, row.kind, row.name, dict(row.payload), row.attempts, row.deliver_at
    )


def pending_messages(session: Session, ids: list[str]) -> list[PendingMessage]:
    """These messages if still undispatched, locked (a relay holding one is skipped)."""
    rows = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.dispatched_at).is_(None))
        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
        .with_for_update(skip_locked=True)
    ).all()
    return [_pending(r) for r in rows]


def claim_stale_messages(
    session: Session, older_than: timedelta, now: datetime, limit: int
) -> list[PendingMessage]:
    """Lock (skipping rows another relay holds) messages left undispatched for a while."""
    due = sa.or_(
        sa.and_(
            col(OutboxMessage.retry_at).is_(None), col(OutboxMessage.created_at) <= now - older_than
        ),
        col(OutboxMessage.retry_at) <= now,
    )
    rows = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.dispatched_at).is_(None), due)
        .order_by(
            sa.func.coalesce(OutboxMessage.retry_at, OutboxMessage.created_at),
            col(OutboxMessage.id),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    return [_pending(r) for r in rows]


def mark_dispatched(session: Session, ids: list[str], now: datetime) -> None:
    if ids:
        session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.dispatched_at).is_(None))
            .values(dispatched_at=now, attempts=OutboxMessage.attempts + 1)
        )


def mark_failed(
    session: Session,
    message: OutboxMessage | PendingMessage,
    error: str,
    now: datetime,
    attempts: int,
) -> None:
    """Count the failure and wait 2^attempts seconds (at most an hour) before the next try."""
    backoff = min(timedelta(seconds=2 ** min(attempts, 20)), MAX_BACKOFF)
    session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message.id)
        .values(attempts=OutboxMessage.attempts + 1, last_error=error[:500], retry_at=now + backoff)
    )


def events_sent_since(session: Session, since: datetime, limit: int) -> list[PendingMessage]:
    """Events dispatched at or after `since`, and those not dispatched yet (committed, so
    facts, but perhaps held back by a Redis outage), oldest first; at most `limit`."""
    rows = session.exec(
        select(OutboxMessage)
        .where(
            col(OutboxMessage.kind) == MessageKind.EVENT,
            sa.or_(
                col(OutboxMessage.dispatched_at) >= since,
                col(OutboxMessage.dispatched_at).is_(None),
            ),
        )
        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
        .limit(limit)
    ).all()
    return [_pending(r) for r in rows]


def mark_unsent(session: Session, message: OutboxMessage | PendingMessage, error: str) -> None:
    """Count a try that found the broker away; the message stays due (no backoff of its own:
    the relay backs off as a whole until the broker is back)."""
    session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message.id)
        .values(attempts=OutboxMessage.attempts + 1, last_error=error[:500])
    )


def has_undispatched(session: Session, name: str) -> bool:
    """Whether a message of this name still waits to be handed on."""
    waiting = select(OutboxMessage.id).where(
        col(OutboxMessage.dispatched_at).is_(None), col(OutboxMessage.name) == name
    )
    return session.exec(waiting.limit(1)).first() is not None


def count_pending(session: Session) -> int:
    return session.exec(
        select(sa.func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.dispatched_at).is_(None))
    ).one()


def mark_completed(session: Session, message_id: str, now: datetime) -> None:
    session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.completed_at).is_(None))
        .values(completed_at=now)
    )


def requeue_lost_jobs(
    session: Session,
    lost_after: timedelta,
    now: datetime,
    longer: dict[str, timedelta] | None = None,
    limit: int = 500,
) -> list[str]:
    """Mark undispatched again the jobs sent (or due) more than `lost_after` ago — or the
    longer time given per job name — that no worker has finished: the relay sends them once
    more under the same id, so consumers still apply each at most once. Their ids."""
    longer = longer or {}
    sent = sa.func.coalesce(OutboxMessage.deliver_at, OutboxMessage.dispatched_at)
    overdue = sa.or_(
        sa.and_(col(OutboxMessage.name).not_in(list(longer)), sent < now - lost_after),
        *(
            sa.and_(col(OutboxMessage.name) == name, sent < now - wait)
            for name, wait in longer.items()
        ),
    )
    lost = session.exec(
        select(OutboxMessage.id)
        .where(sa.text(UNFINISHED_JOB), col(OutboxMessage.dispatched_at) < now - lost_after)
        .where(overdue)
        .order_by(col(OutboxMessage.dispatched_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if lost:
        session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(lost))
            .values(dispatched_at=None, retry_at=now, last_error="lost: no worker finished it")
        )
    return list(lost)


def claim_message(session: Session, message_id: str, consumer: str) -> bool:
    """True the first time `consumer` sees `message_id` in a committed transaction."""
    inserted = insert_ignoring_conflicts(
        session,
        ProcessedMessage,
        [{"message_id": message_id, "consumer": consumer, "processed_at": utcnow()}],
    )
    return inserted == 1
