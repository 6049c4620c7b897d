"""Background jobs of the daily close (RULES.md §4, §5): open a business day's run, then close
its chunks in parallel, each in one transaction. A chunk whose worker dies is redelivered and
closed again with the same result; one that fails is recorded on its run, and asking for the
day again retries it."""

from __future__ import annotations

import dramatiq
import structlog

from domain.billing.runs import CHUNK_ACTOR, OPEN_ACTOR, close_chunk, fail_chunk, open_run
from domain.tables import utcnow
from workers import runtime

log = structlog.get_logger(__name__)


@dramatiq.actor(actor_name=OPEN_ACTOR, queue_name="billing", max_retries=5)
def open_billing_run(message_id: str, run_id: int) -> None:
    """Split the day's loans into chunks by id range and queue them."""
    current = runtime.current()
    with current.unit_of_work() as uow:
        chunks = open_run(uow.session, run_id, current.billing_chunk_size, utcnow())
        uow.commit()
    log.info("billing_run_opened", run_id=run_id, chunks=chunks)


@dramatiq.actor(actor_name=CHUNK_ACTOR, queue_name="billing", max_retries=0)
def close_billing_chunk(message_id: str, chunk_id: int) -> None:
    """Close one chunk, or record why it could not be closed (its work rolled back)."""
    current = runtime.current()
    try:
        with current.unit_of_work() as uow:
            closed = close_chunk(uow.session, chunk_id, utcnow())
            uow.commit()
    except Exception as error:
        log.exception("billing_chunk_failed", chunk_id=chunk_id)
        with current.unit_of_work() as uow:
            fail_chunk(uow.session, chunk_id, f"{type(error).__name__}: {error}", utcnow())
            uow.commit()
        return
    log.info("billing_chunk_closed", chunk_id=chunk_id, closed=closed)
