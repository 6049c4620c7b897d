"""The attempt limiter: moving-window budgets, and sign-in that outlives a Redis outage."""

import pytest
from pydantic import ValidationError

from app.attempt_limits import AttemptLimiter
from tests.conftest import make_settings
from tests.live_server import free_port


def test_a_budget_refuses_past_its_count_with_the_seconds_to_wait() -> None:
    limiter = AttemptLimiter({"address": "2/minute;3/hour"})
    assert [limiter.spend("address", "10.0.0.1") for _ in range(2)] == [None, None]
    wait = limiter.spend("address", "10.0.0.1")
    assert wait is not None and 1 <= wait <= 60
    assert limiter.spend("address", "10.0.0.2") is None  # another key, another budget
    assert limiter.spend("username", "anything") is None  # a scope without a budget


def test_counting_goes_on_in_memory_while_redis_is_unreachable() -> None:
    limiter = AttemptLimiter({"address": "2/minute"}, f"redis://127.0.0.1:{free_port()}/0")
    assert [limiter.spend("address", "10.0.0.1") for _ in range(3)][-1] is not None


@pytest.mark.parametrize("setting", ["RATE_LIMIT_PER_ADDRESS", "RATE_LIMIT_PER_USERNAME"])
def test_a_budget_that_does_not_parse_is_refused_at_start(setting: str) -> None:
    with pytest.raises(ValidationError, match="rate limit"):
        make_settings("sqlite://", **{setting: "lots"})
