"""Reading one spreadsheet cell as a typed value, or saying exactly why it cannot be."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from domain.money import Money

Row = dict[str, str | None]


class BadCell(ValueError):
    """A cell that cannot be read; the message names the column."""


def header_problem(found: list[str], expected: tuple[str, ...]) -> str | None:
    """None when the headers are exactly the expected ones (in any order)."""
    names = [h.strip() for h in found if h and h.strip()]
    missing = [h for h in expected if h not in names]
    unexpected = [h for h in names if h not in expected]
    if not missing and not unexpected:
        return None
    parts = [f"expected the headers: {', '.join(expected)}"]
    if missing:
        parts.append(f"missing: {', '.join(missing)}")
    if unexpected:
        parts.append(f"not expected: {', '.join(unexpected)}")
    return "; ".join(parts)


def text(row: Row, column: str) -> str:
    value = row.get(column)
    if value is None or not value.strip():
        raise BadCell(f"{column} is missing")
    return value.strip()


def integer(row: Row, column: str, minimum: int | None = None) -> int:
    raw = text(row, column)
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise BadCell(f"{column} is not a number: {raw!r}") from None
    if number != number.to_integral_value():
        raise BadCell(f"{column} must be a whole number: {raw!r}")
    if minimum is not None and number < minimum:
        raise BadCell(f"{column} must be at least {minimum}: {raw!r}")
    return int(number)


def decimal(row: Row, column: str, positive: bool = False) -> Decimal:
    raw = text(row, column)
    try:
        number = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise BadCell(f"{column} is not a number: {raw!r}") from None
    if not number.is_finite() or (positive and number <= 0) or number < 0:
        raise BadCell(f"{column} must be {'more than zero' if positive else 'zero or more'}")
    return number


def money_minor(row: Row, column: str, currency: str, positive: bool = False) -> int:
    amount = Money(decimal(row, column, positive), currency)
    if amount.rounded() != amount:
        raise BadCell(f"{column} has more decimals than {currency} allows")
    return amount.to_minor()


def day(row: Row, column: str) -> date:
    raw = text(row, column)
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise BadCell(f"{column} is not a date (YYYY-MM-DD): {raw!r}") from None
