"""Money: an immutable amount in one currency, rounded by one named rule.

Stored as integer minor units; computed with Decimal; never a float (ARCHITECTURE.md, Money).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ROUNDING = ROUND_HALF_UP

# ISO 4217 minor-unit exponents of the currencies Lendgraph lends in.
MINOR_UNIT_EXPONENTS: dict[str, int] = {"INR": 2, "KES": 2, "IDR": 2, "USD": 2, "EUR": 2}


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


class UnknownCurrency(ValueError):
    """A currency code Lendgraph does not know how to round."""


def minor_unit_exponent(currency: str) -> int:
    try:
        return MINOR_UNIT_EXPONENTS[currency]
    except KeyError:
        raise UnknownCurrency(currency) from None


def parse_decimal(value: str | int | Decimal) -> Decimal:
    """Read a decimal amount from text or an integer; floats are refused on purpose."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise TypeError(f"amounts must be str, int or Decimal, not {type(value).__name__}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of one currency. Arithmetic keeps full precision; `rounded()` fixes it."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", parse_decimal(self.amount))
        minor_unit_exponent(self.currency)

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        return cls(parse_decimal(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, minor_units: int, currency: str) -> Money:
        return cls(Decimal(minor_units).scaleb(-minor_unit_exponent(currency)), currency)

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-minor_unit_exponent(self.currency))

    def rounded(self) -> Money:
        """The amount fixed to the currency's minor unit, half-up (RULES.md §0, Rounding)."""
        return Money(self.amount.quantize(self.quantum, rounding=ROUNDING), self.currency)

    def to_minor(self) -> int:
        """Integer minor units; the amount must already be a whole number of them."""
        scaled = self.amount.scaleb(minor_unit_exponent(self.currency))
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{self} has more precision than its minor unit; round it first")
        return int(scaled)

    def is_zero(self) -> bool:
        return self.amount == 0

    def is_positive(self) -> bool:
        return self.amount > 0

    def is_negative(self) -> bool:
        return self.amount < 0

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise TypeError("money is never multiplied by a float")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def allocate(self, weights: Sequence[Decimal | int]) -> list[Money]:
        """Split into parts proportional to `weights`, summing exactly to the rounded amount.

        Largest remainder: every part is first rounded down to the minor unit; the units
        left over go one each to the parts with the largest remainders, ties to the
        earliest weight (so callers order weights by a stable key, e.g. provider id).
        """
        if not weights or any(w < 0 for w in weights):
            raise ValueError("weights must be a non-empty list of non-negative numbers")
        total_weight = sum(Decimal(w) for w in weights)
        if total_weight == 0:
            raise ValueError("weights must not all be zero")
        total_minor = self.rounded().to_minor()
        sign = -1 if total_minor < 0 else 1
        exact = [Decimal(abs(total_minor)) * Decimal(w) / total_weight for w in weights]
        floors = [int(part) for part in exact]
        left_over = abs(total_minor) - sum(floors)
        by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
        for index in by_remainder[:left_over]:
            floors[index] += 1
        return [Money.from_minor(sign * part, self.currency) for part in floors]
