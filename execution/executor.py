"""The execute function strawberry calls after parsing, validating and limiting an operation.

Strawberry's pipeline stays in front: its extensions parse (cached), validate (cached), check
tokens, depth, aliases and cost, and format errors and metrics after. Only graphql-core's
per-field execution is replaced, and only for an operation with a plan: a query whose every field
declares what it needs (schema/planning.py). Everything else (mutations, introspection, a field
without a declaration, an abstract type the plan lacks) runs on graphql-core as before, and so
does a planned request that meets anything unexpected: an error, a null where the type forbids
one. The compiled executor therefore answers only successful requests, and every error comes
from strawberry with its code and path.

Plans are cached per document text and operation name, and per values of the variables that
@skip/@include read. Once the pipeline has answered a query text, the HTTP view runs its plan
ahead of the pipeline (server/ahead.py, with `run_plan` and the same `Plans`). Under
`EXECUTION_DIFFERENTIAL` (the test suite) every compiled request also runs on graphql-core, and
any difference is a loud failure (`differences`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import orjson
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLSchema, OperationDefinitionNode
from graphql.execution.values import get_variable_values
from graphql.pyutils import is_awaitable

from core.context import RequestContext
from core.observability import OPERATIONS
from core.observability import comparing as comparing  # still importable from here
from core.text_cache import TextLRU
from execution.plan import Unplannable, directive_variables, plan_operation
from execution.run import Compiled
from resolvers.media.uploads import one_signature_per_request

log = logging.getLogger("ephemera.execution")
# Set while strawberry's pipeline answers a request the compiled plan already failed on (ahead of
# the pipeline, server/ahead.py): graphql-core answers, the plan is not tried a second time.
_strawberry_only: ContextVar[bool] = ContextVar("strawberry_only", default=False)
# Every difference the differential mode met, for the test suite to fail on.
differences: list[str] = []
MAX_PLANNED_DOCUMENTS = 256
MAX_PLAN_BYTES = 64 * 1024


class Plans:
    """Plans by (text, operation name), then by the values of the directives' variables."""

    def __init__(self) -> None:
        self._by_text: TextLRU[tuple[str, str | None], _DocumentPlans] = TextLRU(
            MAX_PLANNED_DOCUMENTS, 4 * 1024 * 1024, MAX_PLAN_BYTES
        )

    def compiled(
        self, schema: GraphQLSchema, document: Any, operation_name: str | None, variables: Any
    ) -> Compiled | None:
        source = document.loc.source.body if document.loc is not None else None
        if source is None:
            return None
        key = (source, operation_name)
        found = self._by_text.get(key)
        if found is None:
            found = _DocumentPlans(document, operation_name)
            self._by_text.put(key, found, len(source.encode(errors="replace")))
        return found.compiled(schema, variables)


class _DocumentPlans:
    def __init__(self, document: Any, operation_name: str | None) -> None:
        self.document = document
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = [
            op for op in operations if operation_name is None or (op.name and op.name.value == operation_name)
        ]
        self.operation = chosen[0] if chosen else None
        self.switches = directive_variables(document)
        self.plans: dict[tuple[bool, ...], Compiled | None] = {}

    def compiled(self, schema: GraphQLSchema, variables: Any) -> Compiled | None:
        if self.operation is None:
            return None
        values = tuple(bool(variables.coerced.get(name)) for name in self.switches)
        if values not in self.plans:
            try:
                plan = plan_operation(
                    schema, self.document, self.operation, dict(zip(self.switches, values, strict=True))
                )
                self.plans[values] = Compiled.of(plan)
            except Unplannable as exc:
                log.debug("not planned: %s", exc)
                self.plans[values] = None
        return self.plans[values]


@contextmanager
def strawberry_only() -> Iterator[None]:
    token = _strawberry_only.set(True)
    try:
        yield
    finally:
        _strawberry_only.reset(token)


def count(executor: str) -> None:
    if not comparing.get():
        OPERATIONS.labels(executor).inc()


def compiled_execution(plans: Plans) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wraps graphql-core's `execute` (strawberry's `_get_execute_function`)."""

    def wrap(execute: Callable[..., Any]) -> Callable[..., Any]:
        def run(schema: GraphQLSchema, document: Any, **kwargs: Any) -> Any:
            ctx = kwargs.get("context_value")
            compiled, variables = None, None
            if _compiles(ctx):
                operation = _operation(document, kwargs.get("operation_name"))
                if operation is not None and operation.operation.value == "query":
                    coerced = get_variable_values(
                        schema, operation.variable_definitions or (), kwargs.get("variable_values") or {}
                    )
                    if not isinstance(coerced, list):
                        variables = coerced
                        compiled = plans.compiled(schema, document, kwargs.get("operation_name"), coerced)
            if compiled is None or variables is None:
                count("strawberry")
                return execute(schema, document, **kwargs)
            return _run_compiled(compiled, variables, execute, schema, document, kwargs)

        return run

    return wrap


def _compiles(ctx: Any) -> bool:
    """HTTP requests (their context has a shared read session), when the setting allows; never
    the differential comparison's second run, nor after the plan failed ahead of the pipeline."""
    return (
        not comparing.get()
        and not _strawberry_only.get()
        and isinstance(ctx, RequestContext)
        and ctx.shared_read is not None
        and ctx.services.settings.compiled_execution
    )


def _operation(document: Any, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)


async def _strawberry(execute: Callable[..., Any], schema: Any, document: Any, kwargs: dict[str, Any]) -> Any:
    result = execute(schema, document, **kwargs)
    return await result if is_awaitable(result) else result


async def _run_compiled(
    compiled: Compiled,
    variables: Any,
    execute: Callable[..., Any],
    schema: GraphQLSchema,
    document: Any,
    kwargs: dict[str, Any],
) -> Any:
    ctx: RequestContext = kwargs["context_value"]
    with one_signature_per_request():
        data = await run_plan(compiled, ctx, variables)
        if data is None:
            count("strawberry")
            return await _strawberry(execute, schema, document, kwargs)
        count("compiled")
        if ctx.services.settings.execution_differential:
            await _compare(data, execute, schema, document, kwargs)
        return GraphQLExecutionResult(data=data, errors=None)


async def run_plan(compiled: Compiled, ctx: RequestContext, variables: Any) -> dict[str, Any] | None:
    """The plan's answer; None when it met anything unexpected (strawberry answers instead). Run
    inside `one_signature_per_request`, so that a comparison signs the same URLs."""
    try:
        return await compiled.run(ctx, variables)
    except Exception as exc:  # anything at all
        log.debug("compiled execution fell back: %r", exc)
        return None


async def _compare(
    data: dict[str, Any], execute: Callable[..., Any], schema: Any, document: Any, kwargs: dict[str, Any]
) -> None:
    token = comparing.set(True)
    try:
        expected = await _strawberry(execute, schema, document, kwargs)
    finally:
        comparing.reset(token)
    errors = [error.formatted for error in expected.errors or ()]
    if errors or orjson.dumps(expected.data) != orjson.dumps(data):
        text = document.loc.source.body if document.loc is not None else "?"
        difference = (
            f"compiled and strawberry differ on {text!r}:\n compiled:   {orjson.dumps(data).decode()}\n"
            f" strawberry: {orjson.dumps(expected.data).decode()} {errors}"
        )
        differences.append(difference)
        log.error(difference)
        raise AssertionError(difference)


def install(schema: Any) -> None:
    """Once per schema (schemas are shared between apps of the same limits): its own plan cache."""
    if hasattr(schema, "wrap_execute") and schema.wrap_execute is None:
        schema.compiled_plans = Plans()
        schema.wrap_execute = compiled_execution(schema.compiled_plans)


def plans_of(schema: Any) -> Plans | None:
    """The plan cache `install` gave the schema (server/ahead.py plans with the same one)."""
    plans = getattr(schema, "compiled_plans", None)
    return plans if isinstance(plans, Plans) else None
