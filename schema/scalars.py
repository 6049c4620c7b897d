"""Scalars and value types: Decimal as a string on the wire, and Money."""

from __future__ import annotations

import decimal
from typing import Any

import strawberry
from graphql import StringValueNode, ValueNode

from domain.money import Money as DomainMoney
from domain.money import parse_decimal


def serialize_decimal(value: decimal.Decimal) -> str:
    return format(value, "f")


def parse_decimal_value(value: Any) -> decimal.Decimal:
    if not isinstance(value, str):
        raise ValueError('Decimal values are strings such as "1050.00"; numbers are refused')
    return parse_decimal(value.strip())


def parse_decimal_literal(node: ValueNode, _variables: Any = None) -> decimal.Decimal:
    if not isinstance(node, StringValueNode):
        raise ValueError('Decimal literals are strings such as "1050.00"; numbers are refused')
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
