"""Mutations per user and per client address, in a sliding window shared through Redis when configured.

Every mutation field counts: an operation with 15 aliased mutations reserves 15 of the budget, and
each operation of a batch reserves its own. The reservation is made before anything executes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution import ExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from core.context import RequestContext
from core.errors import RateLimited
from core.rate_limiter import Reservation, reserve

WINDOW_SECONDS = 60


def count_fields(selection_set: SelectionSetNode, fragments: dict[str, SelectionSetNode]) -> int:
    """Root fields of an operation, through fragments (each fragment counted once per spread)."""
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += selection.name.value != "__typename"
        elif isinstance(selection, InlineFragmentNode):
            total += count_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            total += count_fields(fragments[selection.name.value], fragments)
    return total


class MutationRateLimit(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        request = ctx.context
        if ctx.operation_type is OperationType.MUTATION and isinstance(request, RequestContext):
            settings = request.services.settings
            count = self._mutation_fields()
            keys = [(f"mutations:addr:{request.client_addr}", settings.mutations_per_minute_per_address)]
            if request.viewer_id is not None:
                keys.append((f"mutations:user:{request.viewer_id}", settings.mutations_per_minute_per_user))
            limiter = request.services.limiter
            reserved: list[Reservation] = []
            try:
                for key, limit in keys:
                    reserved.append(
                        await reserve(
                            limiter, key, limit, WINDOW_SECONDS, "Too many changes at once; slow down.", count
                        )
                    )
            except RateLimited as exc:
                for reservation in reserved:
                    await limiter.release(reservation)
                error = GraphQLError(
                    exc.message, extensions={"code": exc.code, **exc.extensions}, original_error=exc
                )
                ctx.result = ExecutionResult(data=None, errors=[error])
        yield

    def _mutation_fields(self) -> int:
        document = self.execution_context.graphql_document
        operation = self.execution_context.operation_name
        if document is None:
            return 1
        definitions = document.definitions
        fragments = {
            d.name.value: d.selection_set for d in definitions if isinstance(d, FragmentDefinitionNode)
        }
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and (
                operation is None or (definition.name is not None and definition.name.value == operation)
            ):
                return max(1, count_fields(definition.selection_set, fragments))
        return 1
