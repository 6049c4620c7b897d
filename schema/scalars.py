"""Scalars and value types: Decimal as a string on the wire, and Money."""

from __future__ import annotations

import decimal
import re
from typing import Any

import strawberry
from graphql import GraphQLError, StringValueNode, ValueNode

from domain.money import Money as DomainMoney


def serialize_decimal(value: decimal.Decimal) -> str:
    return format(value, "f")


# ASCII digits with an optional sign and one decimal point: no exponent, no digit-group
# underscores, no other scripts' digits (which Python's Decimal would all accept).
DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# Amounts are stored as BIGINT minor units (at most 9,223,372,036,854,775,807): 16 digits
# before the point always fit with two decimals. 16 + 12 digits stay within Decimal's default
# 28-digit precision, so every accepted value rounds and compares exactly.
MAX_WHOLE_DIGITS = 16
MAX_FRACTION_DIGITS = 12
NUMBERS_REFUSED = 'Decimal values are strings such as "1050.00"; numbers are refused'
SHOWN_CHARACTERS = 40  # of a refused value, so a huge one is not echoed back whole


def parse_decimal_value(value: Any) -> decimal.Decimal:
    """Client input that is not a decimal number at all is refused here, before execution,
    as a GraphQL error with code INVALID_INPUT; a well-formed one too large for the books is
    refused by the input screen (`decimal_size_problem`), naming the field."""
    if not isinstance(value, str):
        raise GraphQLError(NUMBERS_REFUSED, extensions={"code": "INVALID_INPUT"})
    if DECIMAL_TEXT.fullmatch(value) is None:
        shown = value if len(value) <= SHOWN_CHARACTERS else value[:SHOWN_CHARACTERS] + "…"
        raise GraphQLError(
            f"Decimal: {shown!r} is not a decimal number: write ASCII digits with an optional "
            'sign and decimal point, e.g. "1050.00" (no exponent, spaces or underscores)',
            extensions={"code": "INVALID_INPUT"},
        )
    return decimal.Decimal(value)


def decimal_size_problem(number: decimal.Decimal) -> str | None:
    """Why a parsed Decimal is beyond what amounts and rates can hold, or None."""
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite: the grammar admits no NaN or Infinity
    if len(digits) + exponent > MAX_WHOLE_DIGITS:
        return f"has more than {MAX_WHOLE_DIGITS} digits before the decimal point"
    if -exponent > MAX_FRACTION_DIGITS:
        return f"has more than {MAX_FRACTION_DIGITS} digits after the decimal point"
    return None


def parse_decimal_literal(node: ValueNode, _variables: Any = None) -> decimal.Decimal:
    """A literal in the document: refused like a variable, located at the literal."""
    if not isinstance(node, StringValueNode):
        raise GraphQLError(NUMBERS_REFUSED, node, extensions={"code": "INVALID_INPUT"})
    try:
        return parse_decimal_value(node.value)
    except GraphQLError as refused:
        raise GraphQLError(refused.message, node, extensions=refused.extensions) from None


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description=(
        "An exact decimal number written as a string of ASCII digits with an optional sign "
        'and decimal point, e.g. "8791.59" or "-0.5" (no exponent, spaces or underscores). '
        f"At most {MAX_WHOLE_DIGITS} digits before the point and {MAX_FRACTION_DIGITS} after. "
        "JSON numbers are refused so no precision is lost to floating point."
    ),
    serialize=serialize_decimal,
    parse_value=parse_decimal_value,
    parse_literal=parse_decimal_literal,
)

SCALAR_MAP: dict[object, Any] = {decimal.Decimal: DecimalScalar}


@strawberry.type(description="An amount of money in one currency.")
class Money:
    amount: decimal.Decimal = strawberry.field(
        description="The amount in the currency's major unit, exact to its minor unit."
    )
    currency: str = strawberry.field(description="ISO 4217 currency code, e.g. INR.")

    @classmethod
    def from_domain(cls, money: DomainMoney) -> Money:
        rounded = money.rounded()
        return cls(amount=rounded.amount, currency=rounded.currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """From integer minor units, as amounts are stored."""
        return cls.from_domain(DomainMoney.from_minor(minor, currency))
