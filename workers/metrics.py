"""Job counters for /metrics: how many background jobs ran, by actor and outcome."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from prometheus_client import Counter

JOBS = Counter("lendgraph_jobs_total", "Background jobs processed", ["actor", "outcome"])
OUTBOX_DISPATCHED = Counter(
    "lendgraph_outbox_dispatched_total", "Outbox messages handed on", ["kind", "outcome"]
)


class JobMetrics(Middleware):
    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        JOBS.labels(message.actor_name, "failed" if exception else "succeeded").inc()

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        JOBS.labels(message.actor_name, "skipped").inc()
