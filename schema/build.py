"""Assembling the schema with its guards: caches, depth/alias/token limits, error masking,
and the input screen."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import strawberry
import structlog
from graphql import GraphQLError
from graphql.validation import ASTValidationRule
from sqlalchemy.exc import PendingRollbackError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from domain.database_outage import is_database_outage
from domain.errors import DomainError
from schema.input_screen import screen_arguments
from schema.scalars import SCALAR_MAP, Money
from schema.sign_in_guard import OneSignInPerOperation
from schema.suggestions import ExecutorWithoutSuggestions, ValidationWithoutSuggestions

log = structlog.get_logger("lendgraph.graphql")

INTERNAL_ERROR = "INTERNAL_ERROR"
# The database could not be reached: nothing is wrong with the request, so the client may
# send it again later (money mutations with the same idempotency key; see the README,
# "Running in production").
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = (
    "The service is briefly unavailable (its database could not be reached); retry the "
    "request, with the same idempotency key for a mutation that takes one."
)


@dataclass(frozen=True)
class SchemaLimits:
    """Guards against expensive documents (values come from settings)."""

    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    introspection: bool = True


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (DomainError, GraphQLError))


def _request_id(execution_context: ExecutionContext | None) -> str | None:
    context = getattr(execution_context, "context", None)
    return getattr(context, "request_id", None)


def masked_error(request_id: str | None, **location: Any) -> GraphQLError:
    """What a client sees of an unexpected failure: nothing but the request id to quote."""
    return GraphQLError(
        f"Unexpected error; quote request id {request_id} when reporting it.",
        extensions={"code": INTERNAL_ERROR, "requestId": request_id},
        **location,
    )


def unavailable_error(request_id: str | None, **location: Any) -> GraphQLError:
    """What a client sees when the database could not be reached: retry later."""
    return GraphQLError(
        UNAVAILABLE_MESSAGE,
        extensions={"code": SERVICE_UNAVAILABLE, "retryable": True, "requestId": request_id},
        **location,
    )


def failure_error(
    error: BaseException, request_id: str | None, outage: bool = False, **location: Any
) -> GraphQLError:
    """An unexpected failure as the client sees it: SERVICE_UNAVAILABLE (retryable) when the
    database could not be reached, else masked as INTERNAL_ERROR. `outage`: the operation
    already lost its database, so a session refusing to go on is the same outage."""
    if is_database_outage(error) or (outage and isinstance(error, PendingRollbackError)):
        return unavailable_error(request_id, **location)
    return masked_error(request_id, **location)


def _lost_database(errors: list[GraphQLError]) -> bool:
    return any(is_database_outage(error.original_error) for error in errors)


class MaskUnexpectedErrors(MaskErrors):
    """Unexpected exceptions become a generic error carrying the request id (or a retryable
    SERVICE_UNAVAILABLE when the database could not be reached); domain errors raised in
    queries keep their message and gain their stable code."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _: True)
        self._outage = False

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        # Strawberry's hook (pinned version): one look at all errors, so a field that failed
        # only because an earlier one lost the connection is reported as the same outage.
        self._outage = _lost_database(errors)
        return super()._process_errors(errors)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": original.code},
            )
        if original is None or not _is_unexpected(error):
            return error
        return failure_error(
            original,
            _request_id(self.execution_context),
            self._outage,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
        )


class RecordOperationName(SchemaExtension):
    """Tells the request context which operation ran, even when the client did not say."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if hasattr(context, "operation_name"):
            context.operation_name = self.execution_context.operation_name


class LendgraphSchema(strawberry.Schema):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        screen_arguments(self._schema)  # one place refuses unstorable text and oversized amounts

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        request_id = _request_id(execution_context)
        for error in errors:
            if is_database_outage(error.original_error):
                log.warning(
                    "graphql_database_unavailable",
                    request_id=request_id,
                    path=error.path,
                    error=repr(error.original_error),
                )
            elif _is_unexpected(error):
                log.error(
                    "graphql_unexpected_error",
                    request_id=request_id,
                    path=error.path,
                    exc_info=error.original_error,
                )
            else:
                code = (error.extensions or {}).get("code")
                log.info("graphql_refused", request_id=request_id, code=code, message=error.message)


def build_schema(limits: SchemaLimits, **types: Any) -> strawberry.Schema:
    """The Lendgraph schema; tests may pass `query`/`mutation` to exercise the same guards."""
    from schema.root import Mutation, Query
    from schema.subscriptions import Subscription

    # A fresh extension per request, but the depth and alias rules are built once: the
    # validation cache keys on the rule classes, and new classes per request never hit it.
    limit_rules: list[type[ASTValidationRule]] = [
        depth_rule(limits.max_depth, None),
        alias_rule(limits.max_aliases),
        OneSignInPerOperation,
    ]
    # Suggestions ("Did you mean …") name what introspection would show: they go with it.
    suggest = limits.introspection
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: ParserCache(maxsize=512),
        lambda: AddValidationRules(limit_rules),
        lambda: ValidationCache(maxsize=512) if suggest else ValidationWithoutSuggestions(512),
        MaskUnexpectedErrors,
        RecordOperationName,
    ]
    if not limits.introspection:
        extensions.append(DisableIntrospection)
    logging.getLogger("strawberry.execution").disabled = True  # logged by process_errors
    return LendgraphSchema(
        query=types.get("query", Query),
        mutation=types.get("mutation", Mutation),
        subscription=types.get("subscription", Subscription),
        types=[Money],
        extensions=extensions,
        execution_context_class=None if suggest else ExecutorWithoutSuggestions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, disable_field_suggestions=not suggest),
    )
