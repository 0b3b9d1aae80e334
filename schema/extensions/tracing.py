"""A span per GraphQL operation, named as OpenTelemetry's GraphQL conventions ask
("query Feed"), current while it executes so that database and Redis spans nest under it.

A query answered ahead of strawberry's pipeline (server/ahead.py) opens its span with
`operation_span`; when the pipeline answers it after all, its extension continues that span
instead of opening a second one. The differential mode's second run of a request has no span."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from graphql import GraphQLError
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from strawberry.extensions import SchemaExtension

from core.observability import comparing
from schema.extensions.metrics import operation_type

_opened: ContextVar[Span | None] = ContextVar("operation_span", default=None)


@contextmanager
def operation_span(tracer: Tracer) -> Iterator[Span]:
    """A span for one operation, current inside the block; whoever answers ends it (`end_span`)."""
    span = tracer.start_span("GraphQL Operation", kind=SpanKind.SERVER)
    token = _opened.set(span)
    try:
        with trace.use_span(span, end_on_exit=False):
            yield span
    finally:
        _opened.reset(token)


def end_span(span: Span, kind: str, name: str | None, errors: list[GraphQLError] | None) -> None:
    span.update_name(f"{kind} {name}" if name else kind)
    span.set_attribute("graphql.operation.type", kind)
    if name:
        span.set_attribute("graphql.operation.name", name)
    codes = sorted({str((error.extensions or {}).get("code", "UNKNOWN")) for error in errors or ()})
    if codes:
        span.set_attribute("graphql.error.codes", codes)
        span.set_status(Status(StatusCode.ERROR, ", ".join(codes)))
    span.end()


class OperationTracing(SchemaExtension):
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.span: Span | None = None

    def on_operation(self) -> Iterator[None]:
        if comparing.get():
            yield
            return
        opened = _opened.get()
        self.span = (
            opened
            if opened is not None
            else self.tracer.start_span("GraphQL Operation", kind=SpanKind.SERVER)
        )
        try:
            yield
        finally:
            ctx = self.execution_context
            end_span(
                self.span, operation_type(ctx), ctx.operation_name, ctx.result.errors if ctx.result else None
            )

    def on_execute(self) -> Iterator[None]:
        if self.span is None:
            yield
            return
        with trace.use_span(self.span, end_on_exit=False):
            yield
