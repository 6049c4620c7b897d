"""Reading one spreadsheet cell as a typed value, or saying exactly why it cannot be."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from domain.money import Money

Row = dict[str, str | None]


class BadCell(ValueError):
    """A cell that cannot be read; the message names the column."""


INT_MAX = 2**31 - 1  # INTEGER columns
BIGINT_MAX = 2**63 - 1  # BIGINT columns (minor units)


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


def _shown(raw: str) -> str:
    return repr(raw if len(raw) <= 40 else raw[:40] + "…")


def text(row: Row, column: str, max_length: int | None = None) -> str:
    value = row.get(column)
    if value is None or not value.strip():
        raise BadCell(f"{column} is missing")
    if max_length is not None and len(value.strip()) > max_length:
        raise BadCell(f"{column} is longer than {max_length} characters")
    return value.strip()


def _number(row: Row, column: str) -> Decimal:
    raw = text(row, column)
    try:
        number = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise BadCell(f"{column} is not a number: {_shown(raw)}") from None
    if not number.is_finite() or abs(number.adjusted()) > 30:
        raise BadCell(f"{column} is not a usable number: {_shown(raw)}")
    return number


def integer(row: Row, column: str, minimum: int = 0, maximum: int = INT_MAX) -> int:
    number = _number(row, column)
    if number != number.to_integral_value():
        raise BadCell(f"{column} must be a whole number: {number}")
    if not minimum <= number <= maximum:
        raise BadCell(f"{column} must be between {minimum} and {maximum}: {number}")
    return int(number)


def decimal(row: Row, column: str, positive: bool = False) -> Decimal:
    number = _number(row, column)
    if (positive and number <= 0) or number < 0:
        raise BadCell(f"{column} must be {'more than zero' if positive else 'zero or more'}")
    return number


def money_minor(row: Row, column: str, currency: str, positive: bool = False) -> int:
    amount = Money(decimal(row, column, positive), currency)
    if amount.rounded() != amount:
        raise BadCell(f"{column} has more decimals than {currency} allows")
    minor = amount.to_minor()
    if minor > BIGINT_MAX:
        raise BadCell(f"{column} is too large")
    return minor


def day(row: Row, column: str) -> date:
    raw = text(row, column)
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise BadCell(f"{column} is not a date (YYYY-MM-DD): {_shown(raw)}") from None
