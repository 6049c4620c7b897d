"""Prometheus metrics for /metrics: GraphQL requests, latency, outbox backlog, jobs."""

from __future__ import annotations

import os
import re

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

GRAPHQL_REQUESTS = Counter(
    "lendgraph_graphql_requests_total", "GraphQL operations", ["operation", "outcome"]
)
GRAPHQL_LATENCY = Histogram(
    "lendgraph_graphql_request_seconds",
    "GraphQL operation latency",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PENDING = Gauge(
    "lendgraph_outbox_pending", "Outbox messages not yet dispatched", multiprocess_mode="mostrecent"
)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_LABELS = 300  # clients name operations; cap the series they can create
_seen_labels: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if not _NAME.match(name):
        return "invalid"
    if name not in _seen_labels:
        if len(_seen_labels) >= MAX_OPERATION_LABELS:
            return "other"
        _seen_labels.add(name)
    return name


def observe(operation: str | None, outcome: str, seconds: float) -> None:
    label = operation_label(operation)
    GRAPHQL_REQUESTS.labels(label, outcome).inc()
    GRAPHQL_LATENCY.labels(label).observe(seconds)


def exposition() -> tuple[bytes, str]:
    """Metrics of this process, or of every process when PROMETHEUS_MULTIPROC_DIR is set
    (needed with `serve --workers N`, where each scrape reaches one worker)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
