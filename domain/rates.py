"""Interest rates: Decimal percentages stored exactly as integer ten-thousandths of a percent."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

RATE_SCALE = 10_000  # 8.12 % is stored as 81_200


class PercentRate(TypeDecorator[Decimal]):
    """A rate such as Decimal("8.12") (percent), exact on PostgreSQL and SQLite alike."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: sa.Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * RATE_SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"rate {value} has more than 4 decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: sa.Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / RATE_SCALE).normalize()
