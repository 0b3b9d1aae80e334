"""Per-operation metrics: counts, latency by operation name, and errors by code."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from core.observability import ERRORS, LATENCY, REQUESTS, comparing, request_id_var

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_NAMES = 500
_seen: set[str] = set()


def operation_label(name: str | None) -> str:
    """Client-chosen names become labels only up to a bound, so no client can explode cardinality."""
    if not name or not _NAME.fullmatch(name):
        return "anonymous"
    if name not in _seen:
        if len(_seen) >= MAX_OPERATION_NAMES:
            return "other"
        _seen.add(name)
    return name


def operation_type(ctx: ExecutionContext) -> str:
    if ctx.graphql_document is None:
        return "invalid"  # the document did not parse
    try:
        return ctx.operation_type.value
    except RuntimeError:  # no operation of that name
        return "invalid"


def observe_operation(
    name: str | None, kind: str, started: float, errors: list[GraphQLError] | None = None
) -> None:
    """One operation answered: its count and latency by name and type, its errors by code (also
    for a query answered ahead of strawberry's pipeline, server/ahead.py)."""
    labels = (operation_label(name), kind)
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(time.perf_counter() - started)
    for error in errors or ():
        ERRORS.labels((error.extensions or {}).get("code", "UNKNOWN")).inc()


class OperationMetrics(SchemaExtension):
    """Listed first, so it sees the final error codes that ErrorPolicy assigns. The differential
    mode's second run of a request is not counted."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        ctx = self.execution_context
        if comparing.get():
            yield
            return
        request_id_var.set(getattr(ctx.context, "request_id", "-"))
        yield
        observe_operation(
            ctx.operation_name, operation_type(ctx), started, ctx.result.errors if ctx.result else None
        )
