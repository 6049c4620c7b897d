"""Budgets of anonymous attempts: who counts as one client, and which budget refuses."""

import pytest

from domain.attempts import ADDRESS, USERNAME, address_key, admit, username_key
from domain.errors import RateLimited


class Budget:
    """Refuses the keys it is told to, and remembers what was spent."""

    def __init__(self, refuse: dict[str, int] | None = None) -> None:
        self.refuse = refuse or {}
        self.spent: list[tuple[str, str]] = []

    def spend(self, scope: str, key: str) -> int | None:
        self.spent.append((scope, key))
        return self.refuse.get(scope)


def test_an_ipv6_client_is_its_whole_slash_64() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")


def test_ipv4_addresses_count_alone_even_when_mapped_into_ipv6() -> None:
    assert address_key("10.0.0.1") == address_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert address_key(None) == "unknown"


def test_an_attempt_spends_from_the_address_and_the_username_it_names() -> None:
    budget = Budget()
    admit(budget, "10.0.0.1", "asha")
    assert budget.spent == [(ADDRESS, "10.0.0.1"), (USERNAME, username_key("asha"))]
    assert "asha" not in username_key("asha")


@pytest.mark.parametrize("scope", [ADDRESS, USERNAME])
def test_either_spent_budget_refuses_with_the_wait(scope: str) -> None:
    with pytest.raises(RateLimited) as refused:
        admit(Budget({scope: 42}), "10.0.0.1", "asha")
    assert (refused.value.code, refused.value.retry_after_seconds) == ("RATE_LIMITED", 42)


def test_without_a_budget_nothing_is_limited() -> None:
    admit(None, "10.0.0.1", "asha")
