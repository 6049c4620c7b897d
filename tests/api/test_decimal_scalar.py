"""Decimal travels as a string; floats are refused so precision is never lost."""

import json
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
    with pytest.raises(GraphQLError, match="not a decimal"):
        parse_decimal_value("1e999999999")  # no exponents: every digit is written out


@pytest.mark.parametrize(
    "text",
    [
        *("١٢٣", "１００", "1_000", "1e3", "1E-2", " 5", "5 ", "", ".", "-", "+-5", "5..0"),
        *("1,000", "NaN", "Infinity", "0x10"),
    ],
)
def test_decimals_are_ascii_digits_with_an_optional_sign_and_point(text: str) -> None:
    literal = SCHEMA.execute_sync(f"{{ echo(value: {json.dumps(text)}) }}")
    variable = SCHEMA.execute_sync("query($v: Decimal!) { echo(value: $v) }", {"v": text})
    for result in (literal, variable):
        [error] = result.errors or []
        assert error.extensions == {"code": "INVALID_INPUT"}
        assert "is not a decimal number" in error.message
        assert result.data is None


@pytest.mark.parametrize(
    ("text", "tripled"),
    [
        ("-0", "-0"),
        (".5", "1.5"),
        ("5.", "15"),
        ("+5", "15"),
        ("0005", "15"),
        ("-1.10", "-3.30"),
        ("1234567890123456.123456789012", "3703703670370368.370370367036"),
    ],
)
def test_sign_and_point_forms_are_read_as_the_number_they_write(text: str, tripled: str) -> None:
    result = SCHEMA.execute_sync("query($v: Decimal!) { echo(value: $v) }", {"v": text})
    assert result.errors is None
    assert result.data == {"echo": tripled}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1" * 17, "more than 16 digits before the decimal point"),
        ("-" + "9" * 19, "more than 16 digits before the decimal point"),
        ("1" * 30 + ".5", "more than 16 digits before the decimal point"),
        ("0." + "0" * 12 + "1", "more than 12 digits after the decimal point"),
    ],
)
def test_decimals_beyond_what_amounts_hold_are_refused_naming_the_argument(
    text: str, problem: str
) -> None:
    result = SCHEMA.execute_sync(f'{{ echo(value: "{text}") }}')
    [error] = result.errors or []
    assert error.extensions == {"code": "INVALID_INPUT"}
    assert error.message == f"Invalid input — value: has {problem}"
