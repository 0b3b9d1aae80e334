"""A document with several operations runs only the one `operationName` names (GraphQL over HTTP).

Strawberry would run the first; graphql-core's own check never sees the missing name because
strawberry fills it in. Raised as strawberry's own error for an unknown operation, so HTTP answers
400 and a WebSocket closes with 4400, as for an operation name that matches nothing."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError


class RequireOperationName(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        # The name as the request gave it (`operation_name` falls back to the first operation's).
        if ctx.graphql_document is None or getattr(ctx, "_provided_operation_name", None) is not None:
            return
        operations = [d for d in ctx.graphql_document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1:
            raise CannotGetOperationTypeError(None)
