"""Mutations per user and per client address, in a sliding window shared through Redis when configured.

Every mutation field counts: an operation with 15 aliased mutations reserves 15 of the budget, and
each operation of a batch reserves its own. The reservation is made before anything executes.
"""

from __future__ import annotations

import asyncio
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
            # Both windows at once (concurrent calls to Redis, not one after the other); if either
            # refuses, what the other reserved is given back and the first refusal, in key order, answers.
            message = "Too many changes at once; slow down."
            outcomes = await asyncio.gather(
                *(reserve(limiter, key, limit, WINDOW_SECONDS, message, count) for key, limit in keys),
                return_exceptions=True,
            )
            refused = next((o for o in outcomes if isinstance(o, BaseException)), None)
            if refused is not None:
                for reservation in outcomes:
                    if isinstance(reservation, Reservation):
                        await limiter.release(reservation)
                if not isinstance(refused, RateLimited):
                    raise refused
                error = GraphQLError(
                    refused.message,
                    extensions={"code": refused.code, **refused.extensions},
                    original_error=refused,
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
