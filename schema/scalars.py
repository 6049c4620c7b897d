"""Scalars and value types: Decimal as a string on the wire, and Money."""

from __future__ import annotations

import decimal
from typing import Any

import strawberry
from graphql import GraphQLError, StringValueNode, ValueNode

from domain.money import Money as DomainMoney
from domain.money import parse_decimal


def serialize_decimal(value: decimal.Decimal) -> str:
    return format(value, "f")


MAX_DIGITS = 30  # far beyond any amount or rate; keeps arithmetic bounded
NUMBERS_REFUSED = 'Decimal values are strings such as "1050.00"; numbers are refused'


def parse_decimal_value(value: Any) -> decimal.Decimal:
    """Client input: a bad value is the client's mistake, reported as a GraphQL error."""
    if not isinstance(value, str):
        raise GraphQLError(NUMBERS_REFUSED)
    try:
        number = parse_decimal(value.strip())
    except ValueError as error:
        raise GraphQLError(f"Decimal: {error}") from None
    if len(number.as_tuple().digits) > MAX_DIGITS or abs(number.adjusted()) > MAX_DIGITS:
        raise GraphQLError(f"Decimal values have at most {MAX_DIGITS} digits")
    return number


def parse_decimal_literal(node: ValueNode, _variables: Any = None) -> decimal.Decimal:
    if not isinstance(node, StringValueNode):
        raise GraphQLError(NUMBERS_REFUSED)
    return parse_decimal_value(node.value)


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description=(
        'An exact decimal number written as a string, e.g. "8791.59". '
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
