"""Finished jobs: a worker records in the outbox each job it finished, so the lost-job sweep
sends again only what no worker finished (lost inside Redis, or with a killed worker).

A job counts as finished when it succeeded or failed for good. One that failed for good
because the database or Redis was away, or because a duplicate of it is still at work
(`dramatiq.Retry`), does not: it is sent again later, like a lost one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dramatiq
import structlog
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from domain.outbox import mark_completed
from domain.tables import utcnow
from workers import runtime
from workers.recovery import is_transient

log = structlog.get_logger(__name__)
TIME_LIMIT_MARGIN = timedelta(minutes=1)


def finished(message: MessageProxy, exception: BaseException | None) -> bool:
    if exception is None:
        return True
    if isinstance(exception, dramatiq.Retry) or is_transient(exception):
        return False
    return bool(message.failed)  # no retries left


class JobCompletion(Middleware):
    """Runs after Dramatiq's Retries middleware (see `setup_broker`), which decides whether
    a failed message is failed for good."""

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if finished(message, exception):
            record_finished(message.message_id)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        record_finished(message.message_id)


def record_finished(message_id: str) -> None:
    if not runtime.installed():
        return  # a bare broker in a test: no outbox to record in
    try:
        with runtime.current().session_factory() as session:
            mark_completed(session, message_id, utcnow())
            session.commit()
    except Exception as error:
        # Not recorded: the sweep sends the job again and its idempotent actor finds nothing
        # left to do.
        log.warning("job_completion_unrecorded", message_id=message_id, error=repr(error))


def longer_waits(broker: dramatiq.Broker, lost_after: timedelta) -> dict[str, timedelta]:
    """Jobs allowed to run longer than `lost_after` (an explicit time limit, imports): not
    lost until their time limit has passed too."""
    waits = {}
    for name in broker.get_declared_actors():
        limit_ms = broker.get_actor(name).options.get("time_limit")
        if limit_ms is not None and timedelta(milliseconds=limit_ms) >= lost_after:
            waits[name] = timedelta(milliseconds=limit_ms) + TIME_LIMIT_MARGIN
    return waits
