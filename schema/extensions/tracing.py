"""A span per GraphQL operation, named as OpenTelemetry's GraphQL conventions ask
("query Feed"), current while it executes so that database and Redis spans nest under it."""

from __future__ import annotations

from collections.abc import Iterator

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from strawberry.extensions import SchemaExtension

from schema.extensions.metrics import operation_type


class OperationTracing(SchemaExtension):
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def on_operation(self) -> Iterator[None]:
        self.span = self.tracer.start_span("GraphQL Operation", kind=SpanKind.SERVER)
        try:
            yield
        finally:
            ctx = self.execution_context
            kind, name = operation_type(ctx), ctx.operation_name
            self.span.update_name(f"{kind} {name}" if name else kind)
            self.span.set_attribute("graphql.operation.type", kind)
            if name:
                self.span.set_attribute("graphql.operation.name", name)
            errors = (ctx.result.errors if ctx.result else None) or []
            codes = sorted({str((error.extensions or {}).get("code", "UNKNOWN")) for error in errors})
            if codes:
                self.span.set_attribute("graphql.error.codes", codes)
                self.span.set_status(Status(StatusCode.ERROR, ", ".join(codes)))
            self.span.end()

    def on_execute(self) -> Iterator[None]:
        with trace.use_span(self.span, end_on_exit=False):
            yield
