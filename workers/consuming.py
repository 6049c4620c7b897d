"""Exactly-once effects for at-least-once delivery: claim the message id, then do the work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from sqlmodel import Session

from domain.outbox import claim_message
from workers import runtime

log = structlog.get_logger(__name__)


def consume_once(consumer: str, message_id: str, work: Callable[[Session], Any]) -> bool:
    """Run `work` in one transaction with the claim of `message_id`; false if seen before."""
    with runtime.current().unit_of_work() as uow:
        if not claim_message(uow.session, message_id, consumer):
            log.info("duplicate_message_skipped", consumer=consumer, message_id=message_id)
            return False
        work(uow.session)
        uow.commit()
    return True
