"""The GraphQL schema: types, inputs, result unions, permissions and the root operations."""

from schema.build import SchemaLimits, build_schema

schema = build_schema(SchemaLimits())

__all__ = ["SchemaLimits", "build_schema", "schema"]
