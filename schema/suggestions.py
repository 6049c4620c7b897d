"""Where introspection is off, refusals suggest no names: "Did you mean 'status'?" would hand
out, one misspelling at a time, the schema that introspection hides.

graphql-core has one switch for this, `hide_suggestions`, honoured by every validation rule
that suggests (fields, arguments, enum values, input fields, types) and by the coercion of
variables at execution. Strawberry (pinned) passes neither, so both are plugged in here:
validation through an extension in place of ValidationCache, execution through the executor
class Strawberry lets a schema choose. Using the switch, rather than cutting "Did you mean"
out of messages afterwards, keeps the rest of each message (for input objects the suggestion
sits mid-sentence) and follows graphql-core when it adds suggestions elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache, lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from graphql.execution import Executor
from graphql.validation import ASTValidationRule, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

# The rules Strawberry's own validate_document adds to the schema's (strawberry pinned).
STRAWBERRY_RULES: tuple[type[ASTValidationRule], ...] = (
    MaybeNullValidationRule,
    OneOfInputValidationRule,
)

Rules = tuple[type[ASTValidationRule], ...]


def _validate_without_suggestions(
    schema: GraphQLSchema, document: DocumentNode, rules: Rules
) -> list[GraphQLError]:
    return validate(schema, document, (*rules, *STRAWBERRY_RULES), hide_suggestions=True)


@cache
def _cached_validation(
    maxsize: int,
) -> Callable[[GraphQLSchema, DocumentNode, Rules], list[GraphQLError]]:
    # One cache per size for every request, as ValidationCache keeps it: an extension is
    # built per request, so a cache of its own would never be hit.
    return lru_cache(maxsize=maxsize)(_validate_without_suggestions)


class ValidationWithoutSuggestions(SchemaExtension):
    """Strawberry's ValidationCache, validating with graphql-core's hide_suggestions."""

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.validate = _cached_validation(maxsize)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None  # parsed before validation
        context.pre_execution_errors = self.validate(
            context.schema._schema, context.graphql_document, tuple(context.validation_rules)
        )
        yield


class ExecutorWithoutSuggestions(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, coercing variables (an enum value in a variable, say) with
    hide_suggestions: for queries, mutations and subscriptions alike."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> list[GraphQLError] | Executor[Any]:
        return super().build(*args, **{**kwargs, "hide_suggestions": True})
