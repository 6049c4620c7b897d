"""Decimal travels as a string; floats are refused so precision is never lost."""

from decimal import Decimal

import pytest
import strawberry
from graphql import GraphQLError

from domain.money import Money as DomainMoney
from schema.build import SchemaLimits, build_schema
from schema.scalars import Money, parse_decimal_value, serialize_decimal


@strawberry.type
class EchoQuery:
    @strawberry.field
    def echo(self, value: Decimal) -> Decimal:
        return value * 3

    @strawberry.field
    def price(self) -> Money:
        return Money.from_domain(DomainMoney.of("8791.585", "INR"))


SCHEMA = build_schema(SchemaLimits(), query=EchoQuery, mutation=None)


def test_decimals_round_trip_as_exact_strings() -> None:
    result = SCHEMA.execute_sync('{ echo(value: "0.10") price { amount currency } }')
    assert result.errors is None
    assert result.data == {"echo": "0.30", "price": {"amount": "8791.59", "currency": "INR"}}


def test_float_literals_and_variables_are_refused_as_client_errors() -> None:
    literal = SCHEMA.execute_sync("{ echo(value: 0.1) }")
    variable = SCHEMA.execute_sync("query($v: Decimal!) { echo(value: $v) }", {"v": 0.1})
    for result in (literal, variable):
        assert result.errors and "numbers are refused" in result.errors[0].message
        assert (result.errors[0].extensions or {}).get("code") != "INTERNAL_ERROR"


def test_scalar_functions() -> None:
    assert serialize_decimal(Decimal("1E+2")) == "100"
    with pytest.raises(GraphQLError, match="not a decimal"):
        parse_decimal_value("ten")
    with pytest.raises(GraphQLError, match="at most 30 digits"):
        parse_decimal_value("1e999999999")
