"""Emailing notifications: the notification is stored (and announced) by its use case; this
job only sends it, retried with backoff while the mail server refuses. A job claims the email
before sending and marks it sent after, so a duplicate delivery of the job (a redelivery, the
lost-job sweep) sends nothing twice."""

from __future__ import annotations

import time

import dramatiq
import structlog

from domain.notifications import (
    DELIVER_ACTOR,
    EMAIL_CLAIM,
    EmailBeingSent,
    Letter,
    claim_email,
    mark_emailed,
    release_email,
)
from domain.tables import utcnow
from workers import runtime
from workers.recovery import Backoff, is_transient, report_failure

log = structlog.get_logger(__name__)


@dramatiq.actor(
    actor_name=DELIVER_ACTOR,
    queue_name="notifications",
    max_retries=8,
    min_backoff=500,
    max_backoff=60_000,
)
def deliver_notification(message_id: str, notification_id: int) -> None:
    sender = runtime.current().email_sender
    if sender is None:
        return  # no mail server configured: stored and live only
    letter = _claim(notification_id)
    if letter is None:
        return  # sent already, or no address to send to
    try:
        sender.send(letter.to, letter.subject, letter.body)
    except Exception:
        _release(notification_id)
        raise  # Dramatiq retries with backoff
    _record_sent(notification_id)
    log.info("notification_emailed", notification_id=notification_id)


def _claim(notification_id: int) -> Letter | None:
    try:
        with runtime.current().unit_of_work() as uow:
            letter = claim_email(uow.session, notification_id, utcnow())
            uow.commit()
    except EmailBeingSent as busy:  # a duplicate of this job is sending: look again later
        raise dramatiq.Retry(str(busy)) from busy
    return letter


def _release(notification_id: int) -> None:
    try:
        with runtime.current().unit_of_work() as uow:
            release_email(uow.session, notification_id)
            uow.commit()
    except Exception as error:  # the claim lapses by itself after EMAIL_CLAIM
        log.warning("email_claim_not_released", notification_id=notification_id, error=repr(error))


def _record_sent(notification_id: int) -> None:
    """The email went out: record it, through a database outage too, for as long as the
    claim keeps duplicates off (after that a retry could send it once more)."""
    backoff = Backoff(cap=10.0)
    deadline = time.monotonic() + EMAIL_CLAIM.total_seconds() * 0.8
    while True:
        try:
            with runtime.current().unit_of_work() as uow:
                mark_emailed(uow.session, notification_id, utcnow())
                uow.commit()
            return
        except Exception as error:
            delay = backoff.next_delay()
            if not is_transient(error) or time.monotonic() + delay > deadline:
                raise
            report_failure(
                log, "email_sent_not_recorded", error, delay, notification_id=notification_id
            )
            time.sleep(delay)
