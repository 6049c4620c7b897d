"""Emailing notifications: the notification is stored (and announced) by its use case; this
job only sends it, retried with backoff while the mail server refuses, and marked sent once
so a later retry sends nothing."""

from __future__ import annotations

import dramatiq
import structlog

from domain.notifications import DELIVER_ACTOR, email_of, mark_emailed
from domain.tables import utcnow
from workers import runtime

log = structlog.get_logger(__name__)


@dramatiq.actor(
    actor_name=DELIVER_ACTOR,
    queue_name="notifications",
    max_retries=8,
    min_backoff=500,
    max_backoff=60_000,
)
def deliver_notification(message_id: str, notification_id: int) -> None:
    current = runtime.current()
    sender = current.email_sender
    if sender is None:
        return  # no mail server configured: stored and live only
    with current.unit_of_work() as uow:
        found = email_of(uow.session, notification_id)
        letter = (found[1], found[0].title, found[0].body) if found is not None else None
    if letter is None:
        return
    sender.send(*letter)  # raises: Dramatiq retries with backoff
    with current.unit_of_work() as uow:
        mark_emailed(uow.session, notification_id, utcnow())
        uow.commit()
    log.info("notification_emailed", notification_id=notification_id)
