"""The private redis-server of bench/private_servers.py, for tests: skipped locally when
redis-server is missing, a failure in CI."""

from __future__ import annotations

import pytest

from bench import private_servers
from tests.services import IN_CI


class PrivateRedis(private_servers.PrivateRedis):
    def __init__(self) -> None:
        try:
            super().__init__()
        except private_servers.ServerMissing as missing:
            (pytest.fail if IN_CI else pytest.skip)(str(missing))
