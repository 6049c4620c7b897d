"""The input screen: every argument value passes here before its field's resolver runs.

Text the database cannot hold or that has no business in a loan book — control characters
(Unicode Cc, except tab, line feed and carriage return, which multi-line text may carry) and
lone surrogates — and Decimals beyond what amounts can hold are refused as INVALID_INPUT
naming the field: as the typed InvalidInputError for a field whose result union has one (every
mutation but setBusinessDate), else as a top-level error with extensions.code INVALID_INPUT.
Per-field formats (phone numbers, usernames...) stay with the domain's own validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import structlog
from graphql import GraphQLObjectType, GraphQLSchema, GraphQLUnionType, get_named_type
from graphql.type import GraphQLField

from domain.errors import FieldProblem, InvalidInput
from schema.errors import InvalidInputError, to_graphql_error
from schema.scalars import decimal_size_problem

log = structlog.get_logger("lendgraph.graphql")

REFUSED_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
TYPED_REFUSAL = InvalidInputError.__name__  # the union member a mutation refuses input with


def text_problem(text: str) -> str | None:
    """Why a string may not be stored, or None."""
    found = REFUSED_CHARACTER.search(text)
    if found is None:
        return None
    code_point = f"U+{ord(found.group()):04X}"
    if "\ud800" <= found.group() <= "\udfff":
        return f"is not valid Unicode text (a lone surrogate, {code_point})"
    return f"must not contain control characters (found {code_point})"


def _walk(value: Any, field: str, problems: list[FieldProblem]) -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            _walk(item, f"{field}.{name}" if field else name, problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{field}[{index}]", problems)
    else:
        problem = (
            text_problem(value)
            if isinstance(value, str)
            else decimal_size_problem(value)
            if isinstance(value, Decimal)
            else None
        )
        if problem is not None:
            problems.append(FieldProblem(field, problem))


def problems_in(arguments: dict[str, Any]) -> list[FieldProblem]:
    """Every refused value among a field's arguments, named as the domain names input fields:
    `firstName` inside the conventional `input` argument, `search` for a plain argument,
    `items[2].name` deeper down."""
    problems: list[FieldProblem] = []
    for name, value in arguments.items():
        _walk(value, "" if name == "input" and isinstance(value, dict) else name, problems)
    return problems


def _offers_typed_refusal(field: GraphQLField) -> bool:
    result = get_named_type(field.type)
    return isinstance(result, GraphQLUnionType) and any(
        member.name == TYPED_REFUSAL for member in result.types
    )


def _screened(resolve: Callable[..., Any], typed: bool) -> Callable[..., Any]:
    def screened(source: Any, info: Any, **arguments: Any) -> Any:
        problems = problems_in(arguments) if arguments else None
        if not problems:
            return resolve(source, info, **arguments)
        log.info(
            "graphql_input_refused",
            request_id=getattr(info.context, "request_id", None),
            field=info.field_name,
            inputs=[problem.field for problem in problems],  # never the values: passwords
        )
        refusal = InvalidInput(problems)
        if typed:
            return to_graphql_error(refusal)
        raise refusal

    return screened


def screen_arguments(schema: GraphQLSchema) -> None:
    """Put the screen in front of the resolver of every field that takes arguments (fields
    without any pay nothing, unlike a schema extension's per-field `resolve` hook)."""
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            if not field.args:
                continue
            if field.resolve is not None:
                field.resolve = _screened(field.resolve, _offers_typed_refusal(field))
            if field.subscribe is not None:
                field.subscribe = _screened(field.subscribe, typed=False)
