"""Finding the PostgreSQL and Redis servers tests need: skip locally, fail in CI."""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = (
    os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
)
RUN_ID = uuid.uuid4().hex[:10]


def reachable(url: str) -> bool:
    parsed = urlparse(url.replace("+psycopg2", ""))
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 0), timeout=2
        ):
            return True
    except OSError:
        return False


def require(url: str, what: str) -> None:
    """Skip when a server is missing locally; in CI a missing server is a failure."""
    if reachable(url):
        return
    message = f"{what} is not reachable at {url}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: tests that need it must not be skipped)")
    pytest.skip(message)
