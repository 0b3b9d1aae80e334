"""Planned queries answered ahead of strawberry's pipeline.

A query text the pipeline has once answered without errors has passed everything that depends
on its text alone: parsing (token limit, strict parsing, one named operation), validation
(depth, aliases, introspection in production, every graphql-core rule) and the unstorable-text
check of its literals. The view remembers it here, parsed, per (text, `operationName`), bounded
as the other caches keyed by text are (core/text_cache.py), with its cost when no variable
changes it. The next request with that text runs its compiled plan (execution/executor.py's
`Plans`, the plan strawberry's execute wrapper built) directly: no extension object, no
parse or validation lookups. What depends on the request is checked again every time: the
variables (coerced against the operation's definitions, no unstorable text), the cost (per
request when a page size is a variable) against the operation's limit and the request's budget.

Anything else goes to the pipeline, which answers exactly as it did before: a text not yet
answered, a mutation or subscription, a document without a plan (introspection, an undeclared
field), any refused limit or variable, and a plan that meets anything unexpected at run time (an
error, a null where the type forbids one): then strawberry's pipeline answers, with graphql-core
only (the plan is not tried twice). Errors therefore always come from strawberry, with their codes.

A query answered here is counted, timed and traced as the pipeline's extensions would
(schema/extensions/metrics.py, tracing.py), reports its cost in `extensions` as the cost limiter
does, and spends the request's cost budget. Under `EXECUTION_DIFFERENTIAL` the pipeline answers
it a second time and any difference in the response is a loud failure.

Prior art: graphql-jit's integrations (envelop's useGraphQlJit) keep the compiled query in an LRU
keyed by the document's text and call it in place of execute, after parse and validation have
run; Grafast keeps one operation plan per document and reuses it while the variable values meet
the constraints the plan recorded. Here the pipeline's first answer stands for validation, and
the per-request part is what the limits read from variables.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from graphql.execution.values import get_variable_values
from opentelemetry.trace import Span, Tracer
from strawberry.types import ExecutionResult

from core.context import RequestContext
from core.observability import comparing, request_id_var
from core.text_cache import TextLRU
from execution.executor import MAX_PLANNED_DOCUMENTS, Plans, count, differences, run_plan, strawberry_only
from execution.plan import directive_variables
from resolvers.media.uploads import one_signature_per_request
from schema.extensions.document_cache import MAX_CACHE_BYTES, MAX_TEXT_BYTES
from schema.extensions.metrics import observe_operation
from schema.extensions.query_limits import fixed_cost, has_unstorable, operation_cost
from schema.extensions.tracing import end_span, operation_span

Pipeline = Callable[[], Awaitable[ExecutionResult]]
PIPELINE: Literal["pipeline"] = "pipeline"  # a text only the pipeline answers (not a query)


@dataclass(frozen=True, slots=True)
class Planned:
    """A query text the pipeline answered once: parsed, with its operation."""

    document: DocumentNode
    operation: OperationDefinitionNode
    name: str | None  # as strawberry names the operation: plans, metrics and spans use it
    cost: int | None  # None: a page size is a variable, so the cost is computed per request
    switches: bool  # @skip/@include read variables: whether it has a plan depends on them


class AheadOfPipeline:
    """Configured once per view: the schema, the plan cache strawberry's execute wrapper fills,
    the operation cost limit the schema's cost limiter enforces (the request's budget is on the
    context), and the schema's tracer (None: no spans)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        plans: Plans,
        *,
        max_cost: int,
        tracer: Tracer | None = None,
        maxsize: int = MAX_PLANNED_DOCUMENTS,
    ) -> None:
        self.schema = schema
        self.plans = plans
        self.max_cost = max_cost
        self.tracer = tracer
        self._texts: TextLRU[tuple[str, str | None], Planned | Literal["pipeline"]] = TextLRU(
            maxsize, MAX_CACHE_BYTES, MAX_TEXT_BYTES
        )

    async def execute(
        self,
        text: str | None,
        name: str | None,
        variables: dict[str, Any] | None,
        ctx: RequestContext,
        pipeline: Pipeline,
    ) -> ExecutionResult:
        """The answer to one operation; `pipeline` runs it through strawberry."""
        if text is None or not ctx.services.settings.compiled_execution:
            return await pipeline()
        key = (text, name)
        known = self._texts.get(key)
        if known is None:
            result = await pipeline()
            if result.data is not None and not result.errors:
                self._remember(key, text, name)
            return result
        if known == PIPELINE:
            return await pipeline()
        assert isinstance(known, Planned)
        return await self._ahead(key, known, variables or {}, ctx, pipeline)

    def _remember(self, key: tuple[str, str | None], text: str, name: str | None) -> None:
        try:
            document = parse(text)  # it parsed in the pipeline, under stricter options
        except GraphQLError:
            return
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = [op for op in operations if name is None or (op.name is not None and op.name.value == name)]
        entry: Planned | Literal["pipeline"] = PIPELINE
        if chosen and chosen[0].operation is OperationType.QUERY:
            operation = chosen[0]
            named = name if name is not None else operation.name.value if operation.name else None
            cost = fixed_cost(self.schema, document, named)
            entry = Planned(document, operation, named, cost, bool(directive_variables(document)))
        self._texts.put(key, entry, len(text.encode(errors="replace")))

    async def _ahead(
        self,
        key: tuple[str, str | None],
        planned: Planned,
        variables: dict[str, Any],
        ctx: RequestContext,
        pipeline: Pipeline,
    ) -> ExecutionResult:
        if has_unstorable(variables):
            return await pipeline()
        coerced = get_variable_values(self.schema, planned.operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            return await pipeline()
        compiled = self.plans.compiled(self.schema, planned.document, planned.name, coerced)
        if compiled is None:
            if not planned.switches:  # never planned (introspection, an undeclared field)
                self._texts.put(key, PIPELINE, len(key[0].encode(errors="replace")))
            return await pipeline()
        cost = planned.cost
        if cost is None:
            cost = operation_cost(self.schema, planned.document, planned.name, variables)
        left = ctx.cost_left
        if cost > self.max_cost or (left is not None and cost > left):
            return await pipeline()
        started = time.perf_counter()
        request_id_var.set(ctx.request_id)
        with self._span() as span, one_signature_per_request():
            data = await run_plan(compiled, ctx, coerced)
            if data is None:
                with strawberry_only():
                    return await pipeline()
            count("compiled")
            extensions = {"cost": {"requested": cost, "limit": self.max_cost}}
            if ctx.services.settings.execution_differential:
                await _compare(data, extensions, ctx, left, pipeline, planned)
            if left is not None:
                ctx.cost_left = left - cost
            if span is not None:
                end_span(span, "query", planned.name, None)
        observe_operation(planned.name, "query", started)
        return ExecutionResult(data=data, errors=None, extensions=extensions)

    @contextmanager
    def _span(self) -> Iterator[Span | None]:
        if self.tracer is None:
            yield None
            return
        with operation_span(self.tracer) as span:
            yield span


async def _compare(
    data: dict[str, Any],
    extensions: dict[str, Any],
    ctx: RequestContext,
    left: int | None,
    pipeline: Pipeline,
    planned: Planned,
) -> None:
    """The differential mode: strawberry's whole pipeline answers too (with graphql-core, its
    metrics and spans off), with the cost budget the request had; both responses must be equal."""
    token = comparing.set(True)
    ctx.cost_left = left
    try:
        expected = await pipeline()
    finally:
        comparing.reset(token)
    ours = orjson.dumps({"data": data, "errors": [], "extensions": extensions})
    theirs = orjson.dumps(
        {
            "data": expected.data,
            "errors": [error.formatted for error in expected.errors or ()],
            "extensions": expected.extensions,
        }
    )
    if ours != theirs:
        text = planned.document.loc.source.body if planned.document.loc is not None else "?"
        difference = (
            f"ahead of the pipeline and strawberry differ on {text!r}:\n ahead:      {ours.decode()}\n"
            f" strawberry: {theirs.decode()}"
        )
        differences.append(difference)
        raise AssertionError(difference)
