"""The savings-transaction score, 300–900 (RULES.md §4)."""

from __future__ import annotations

from decimal import Decimal

FLOOR, CEILING = 300, 900
LOW_BALANCE = Decimal(100_000)  # at or below: the floor
HIGH_BALANCE = Decimal(1_000_000)  # at or above: the ceiling
STEP = Decimal(15_000)  # 10 points per full step of balance


def transaction_score(balance: Decimal) -> int:
    """300 + 10 × floor(balance / 15,000), clamped; ≤ 100,000 -> 300; ≥ 1,000,000 -> 900."""
    if balance <= LOW_BALANCE:
        return FLOOR
    if balance >= HIGH_BALANCE:
        return CEILING
    return max(FLOOR, min(CEILING, FLOOR + 10 * int(balance // STEP)))
