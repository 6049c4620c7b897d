from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import CurrencyMismatch, Money, UnknownCurrency, parse_decimal


def test_rounding_is_half_up_to_the_minor_unit() -> None:
    assert Money.of("8791.585", "INR").rounded() == Money.of("8791.59", "INR")
    assert Money.of("8791.584999", "INR").rounded() == Money.of("8791.58", "INR")
    assert Money.of("-0.005", "INR").rounded() == Money.of("-0.01", "INR")


def test_minor_units_round_trip_exactly() -> None:
    assert Money.of("1050.00", "INR").to_minor() == 105000
    assert Money.from_minor(15750, "INR") == Money.of("157.50", "INR")


def test_unrounded_amount_refuses_to_become_minor_units() -> None:
    with pytest.raises(ValueError, match="round it first"):
        Money.of("1.005", "INR").to_minor()


def test_floats_never_become_money() -> None:
    with pytest.raises(TypeError):
        parse_decimal(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of("1", "INR") * 1.5  # type: ignore[operator]


def test_mixing_currencies_is_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        Money.of("1", "INR") + Money.of("1", "KES")


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency):
        Money.of("1", "XXX")


def test_non_numbers_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="not a decimal number"):
        parse_decimal("12,50")
    with pytest.raises(ValueError, match="not a finite number"):
        parse_decimal("NaN")


def test_allocation_of_rules_section_2_example() -> None:
    # RULES.md §2: funders 300 / 500 / 200; a repayment of 525 splits 157.50 / 262.50 / 105.00
    shares = Money.of("525", "INR").allocate([300, 500, 200])
    assert shares == [
        Money.of("157.50", "INR"),
        Money.of("262.50", "INR"),
        Money.of("105.00", "INR"),
    ]
    assert Money.of("1050", "INR").allocate([300, 500, 200]) == [
        Money.of("315", "INR"),
        Money.of("525", "INR"),
        Money.of("210", "INR"),
    ]


def test_allocation_remainder_goes_to_largest_remainder_then_earliest() -> None:
    assert Money.of("0.10", "INR").allocate([1, 1, 1]) == [
        Money.of("0.04", "INR"),
        Money.of("0.03", "INR"),
        Money.of("0.03", "INR"),
    ]


@given(
    minor=st.integers(min_value=0, max_value=10**13),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30).filter(
        lambda w: sum(w) > 0
    ),
)
def test_allocation_sums_exactly_and_stays_within_one_unit_of_proportion(
    minor: int, weights: list[int]
) -> None:
    total = Money.from_minor(minor, "INR")
    parts = total.allocate(weights)
    assert sum(p.to_minor() for p in parts) == minor
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(minor) * weight / sum(weights)
        assert part.to_minor() >= 0
        assert abs(Decimal(part.to_minor()) - exact) < 1
