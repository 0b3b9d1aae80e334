"""Mutations per user and per client address, in a sliding window shared through Redis when configured."""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import GraphQLError
from graphql.execution import ExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from core.context import RequestContext
from core.errors import RateLimited
from core.ratelimit import enforce

WINDOW_SECONDS = 60


class MutationRateLimit(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        request = ctx.context
        if ctx.operation_type is OperationType.MUTATION and isinstance(request, RequestContext):
            settings = request.services.settings
            keys = [(f"mutations:addr:{request.client_addr}", settings.mutations_per_minute_per_address)]
            if request.viewer_id is not None:
                keys.append((f"mutations:user:{request.viewer_id}", settings.mutations_per_minute_per_user))
            limiter = request.services.limiter
            try:
                for key, limit in keys:
                    await enforce(limiter, key, limit, WINDOW_SECONDS, "Too many changes at once; slow down.")
            except RateLimited as exc:
                error = GraphQLError(
                    exc.message, extensions={"code": exc.code, **exc.extensions}, original_error=exc
                )
                ctx.result = ExecutionResult(data=None, errors=[error])
            else:
                for key, _ in keys:
                    await limiter.record(key, WINDOW_SECONDS)
        yield
