"""Background jobs of the daily close (RULES.md §4, §5): open a business day's run, then close
its chunks in parallel, each in one transaction.

Chunk jobs are interchangeable: each closes its own chunk, then any other of the day that no
one is closing, claimed in the database (`claim_chunk`), until none is left. So the chunks
whose jobs a killed worker had fetched from the queue are closed by the live workers at once,
and the chunk it was closing is free again as soon as its database connection is gone. A chunk
that fails is recorded on its run, and asking for the day again retries it; one that meets a
database outage stays pending and its job is retried."""

from __future__ import annotations

import time

import dramatiq
import structlog

from domain.billing.runs import (
    CHUNK_ACTOR,
    OPEN_ACTOR,
    claim_chunk,
    close_chunk,
    fail_chunk,
    open_run,
)
from domain.tables import utcnow
from workers import runtime
from workers.recovery import is_transient

log = structlog.get_logger(__name__)
# How long one chunk job goes on claiming further chunks: well within Dramatiq's ten-minute
# time limit, so no job is stopped halfway through a chunk for running long.
CLAIMING_SECONDS = 240.0


@dramatiq.actor(actor_name=OPEN_ACTOR, queue_name="billing", max_retries=5)
def open_billing_run(message_id: str, run_id: int) -> None:
    """Split the day's loans into chunks by id range and queue them."""
    current = runtime.current()
    with current.unit_of_work() as uow:
        chunks = open_run(uow.session, run_id, current.billing_chunk_size, utcnow())
        uow.commit()
    log.info("billing_run_opened", run_id=run_id, chunks=chunks)


def _retry_outages(retries: int, error: BaseException) -> bool:
    return is_transient(error) and retries < 10


@dramatiq.actor(
    actor_name=CHUNK_ACTOR,
    queue_name="billing",
    retry_when=_retry_outages,
    min_backoff=1000,
    max_backoff=30_000,
)
def close_billing_chunk(message_id: str, chunk_id: int) -> None:
    """Close this chunk, then others of its day no one is closing, until none is left."""
    started = time.monotonic()
    while time.monotonic() - started < CLAIMING_SECONDS:
        if _close_one(chunk_id) is None:
            return


def _close_one(near: int) -> int | None:
    """Claim and close one chunk of `near`'s day (`near` itself if free); which, or None."""
    current = runtime.current()
    claimed: int | None = None
    try:
        with current.unit_of_work() as uow:
            claimed = claim_chunk(uow.session, near)
            if claimed is None:
                return None
            closed = close_chunk(uow.session, claimed, utcnow())
            uow.commit()
    except Exception as error:
        if claimed is None or is_transient(error):
            raise  # the database is away: the chunk stays pending, Dramatiq retries the job
        log.exception("billing_chunk_failed", chunk_id=claimed)
        _record_failure(claimed, error)
        return claimed
    log.info("billing_chunk_closed", chunk_id=claimed, closed=closed)
    return claimed


def _record_failure(chunk_id: int, error: Exception) -> None:
    """Its work rolled back: record why, so the run ends FAILED and asking again retries it."""
    with runtime.current().unit_of_work() as uow:
        fail_chunk(uow.session, chunk_id, f"{type(error).__name__}: {error}", utcnow())
        uow.commit()
