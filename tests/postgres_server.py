"""The private PostgreSQL cluster of bench/private_servers.py, for tests: skipped locally
when PostgreSQL's server binaries are missing, a failure in CI."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from app.migrations import migrate
from bench import private_servers
from tests.services import IN_CI


class PrivatePostgres(private_servers.PrivatePostgres):
    def __init__(self) -> None:
        try:
            super().__init__()
        except private_servers.ServerMissing as missing:
            (pytest.fail if IN_CI else pytest.skip)(str(missing))


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private, started and migrated cluster, removed afterwards."""
    server = PrivatePostgres()
    try:
        server.start()
        migrate(server.url)
        yield server
    finally:
        server.remove()
