"""One sign-in per request: `login`, `refreshToken` and `registerCustomer` each cost a
password hash or a token rotation, so an operation may hold only one of them (aliases and
fragments included). The document is refused at validation, before any of them runs.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    ValidationContext,
)
from graphql.validation import ValidationRule

ONE_PER_OPERATION = frozenset({"login", "refreshToken", "registerCustomer"})
MAX_SIGN_IN_FIELDS = 1
TOO_MANY_SIGN_IN_FIELDS = "TOO_MANY_SIGN_IN_FIELDS"


class OneSignInPerOperation(ValidationRule):
    """Counts the sign-in mutation fields of each operation, through its fragments."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        # The definition being walked: an operation (by identity) or a fragment (by name).
        self.definition: int | str = 0
        self.found: dict[int | str, list[FieldNode]] = {}

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        self.definition = id(node)

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: Any) -> None:
        self.definition = node.name.value

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        mutation = self.context.schema.mutation_type
        if node.name.value in ONE_PER_OPERATION and self.context.get_parent_type() is mutation:
            self.found.setdefault(self.definition, []).append(node)

    def leave_document(self, node: DocumentNode, *_: Any) -> None:
        for operation in node.definitions:
            if not isinstance(operation, OperationDefinitionNode):
                continue
            fields = list(self.found.get(id(operation), []))
            for fragment in self.context.get_recursively_referenced_fragments(operation):
                fields += self.found.get(fragment.name.value, [])
            if len(fields) > MAX_SIGN_IN_FIELDS:
                self.report_error(
                    GraphQLError(
                        f"An operation may hold at most {MAX_SIGN_IN_FIELDS} of "
                        f"{', '.join(sorted(ONE_PER_OPERATION))} (aliases included); "
                        f"this one holds {len(fields)}. Send them as separate requests.",
                        fields,
                        extensions={"code": TOO_MANY_SIGN_IN_FIELDS},
                    )
                )
