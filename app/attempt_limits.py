"""Budgets of anonymous attempts, counted with the `limits` library's moving window.

On Redis when REDIS_URL is set, so every API process spends from one budget; in process
memory otherwise. Should Redis fail, counting goes on in memory (and says so in the log):
sign-in keeps working, limited per process, rather than failing for everyone.
"""

from __future__ import annotations

import math
import time

import structlog
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from domain.attempts import ADDRESS, USERNAME

log = structlog.get_logger(__name__)


class AttemptLimiter:
    """Implements domain.ports.AttemptBudget: one budget (several windows) per scope."""

    def __init__(
        self, budgets: dict[str, str], redis_url: str | None = None, namespace: str = "lendgraph"
    ) -> None:
        self.budgets: dict[str, list[RateLimitItem]] = {
            scope: parse_many(text) for scope, text in budgets.items()
        }
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.storage: Storage = (
            RedisStorage(redis_url, key_prefix=f"{namespace}:attempts", wrap_exceptions=True)
            if redis_url
            else self.local.storage
        )
        self.shared = MovingWindowRateLimiter(self.storage)

    @classmethod
    def per_address_and_username(
        cls, per_address: str, per_username: str, redis_url: str | None, namespace: str
    ) -> AttemptLimiter:
        return cls({ADDRESS: per_address, USERNAME: per_username}, redis_url, namespace)

    def spend(self, scope: str, key: str) -> int | None:
        for item in self.budgets.get(scope, []):
            limiter = self._hit(item, scope, key)
            if limiter is not None:
                wait = limiter.get_window_stats(item, scope, key).reset_time - time.time()
                seconds = max(1, math.ceil(wait))
                log.info("anonymous_attempt_refused", scope=scope, key=key, retry_after=seconds)
                return seconds
        return None

    def _hit(self, item: RateLimitItem, scope: str, key: str) -> MovingWindowRateLimiter | None:
        """Count the attempt; the limiter that refused it, or None when it was within budget."""
        try:
            return None if self.shared.hit(item, scope, key) else self.shared
        except StorageError as error:
            log.warning("attempt_budget_storage_unavailable", error=str(error.storage_error))
            return None if self.local.hit(item, scope, key) else self.local

    def reset(self) -> None:
        """Forget every count (tests, and operators lifting a block)."""
        self.storage.reset()
        self.local.storage.reset()
