"""Hands committed outbox messages on: jobs to the broker, events to the event hub.

Called right after a commit, and by the relay for whatever is still pending (the broker
was down, the process died between commit and dispatch). Delivery is at least once;
consumers dedupe by message id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import dramatiq
import structlog
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from domain.outbox import (
    MessageKind,
    PendingMessage,
    claim_stale_messages,
    events_sent_since,
    mark_dispatched,
    mark_failed,
    mark_unsent,
    pending_messages,
)
from domain.ports import EventPublisher
from domain.tables import utcnow
from workers.metrics import OUTBOX_DISPATCHED
from workers.recovery import is_transient

log = structlog.get_logger(__name__)


def published(message: PendingMessage) -> dict[str, Any]:
    """An event as the hub carries it: its payload, and its outbox id to dedupe by."""
    return {"messageId": message.id, **message.payload}


def events_since(
    sessions: sessionmaker[Session], since: datetime, limit: int
) -> list[tuple[str, dict[str, Any]]]:
    """(topic, event) sent since `since` or still waiting to be, oldest first, as they were
    (or will be) published: what an event hub replays after losing its connection."""
    with sessions() as session:
        return [(m.name, published(m)) for m in events_sent_since(session, since, limit)]


class BrokerUnavailable(ConnectionError):
    """Redis took no message: what is left waits, as it is, for the relay's next turn."""


class OutboxDispatcher:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        broker: dramatiq.Broker,
        events: EventPublisher,
        relay_after: timedelta = timedelta(seconds=10),
    ) -> None:
        self._sessions = session_factory
        self._broker = broker
        self._events = events
        self._relay_after = relay_after

    def _send(self, message: PendingMessage) -> None:
        if message.kind is MessageKind.EVENT:
            self._events.publish(message.name, published(message))
            return
        actor = self._broker.get_actor(message.name)
        delay = None
        if message.deliver_at is not None:
            delay = max(0, int((message.deliver_at - utcnow()).total_seconds() * 1000)) or None
        self._broker.enqueue(
            dramatiq.Message(
                queue_name=actor.queue_name,
                actor_name=actor.actor_name,
                args=(),
                kwargs={"message_id": message.id, **message.payload},
                options={},
                message_id=message.id,
            ),
            delay=delay,
        )

    def _send_all(self, session: Session, messages: list[PendingMessage]) -> int:
        """Send in order, then record what went. A message the broker refuses backs off on
        its own; an unreachable broker stops the batch (each message would wait out the same
        timeout) without any backoff per message, so all of them go as soon as it is back."""
        sent: list[str] = []
        outage: Exception | None = None
        for message in messages:
            try:
                self._send(message)
            except Exception as error:
                OUTBOX_DISPATCHED.labels(message.kind.value, "failed").inc()
                log.warning(
                    "outbox_dispatch_failed",
                    message_id=message.id,
                    name=message.name,
                    error=repr(error),
                )
                if is_transient(error):
                    mark_unsent(session, message, repr(error))
                    outage = error
                    break
                mark_failed(session, message, repr(error), utcnow(), message.attempts)
            else:
                OUTBOX_DISPATCHED.labels(message.kind.value, "sent").inc()
                sent.append(message.id)
        mark_dispatched(session, sent, utcnow())
        session.commit()
        if outage is not None:
            raise BrokerUnavailable(repr(outage)) from outage
        return len(sent)

    def dispatch(self, ids: list[str]) -> int:
        """After a commit: send these messages now. Never raises; the relay retries."""
        try:
            with self._sessions() as session:
                return self._send_all(session, pending_messages(session, ids))
        except Exception as error:
            if is_transient(error):
                log.warning("outbox_dispatch_deferred", message_ids=ids, error=repr(error))
            else:
                log.exception("outbox_dispatch_aborted", message_ids=ids)
            return 0

    def relay(self, limit: int = 500, older_than: timedelta | None = None) -> int:
        """Send messages left pending longer than the relay delay; returns how many went.
        Raises BrokerUnavailable (or the database's error) for its caller to back off."""
        delay = self._relay_after if older_than is None else older_than
        with self._sessions() as session:
            messages = claim_stale_messages(session, delay, utcnow(), limit)
            if not messages:
                session.rollback()
                return 0
            sent = self._send_all(session, messages)
        log.info("outbox_relayed", sent=sent, pending=len(messages) - sent)
        return sent
