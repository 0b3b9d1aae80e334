"""OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: spans for each GraphQL
operation (schema/extensions/tracing.py) with the database and Redis calls under them, continuing the
caller's W3C `traceparent` (server/tracing.py). OTLP over HTTP; the exporter also reads the other
standard OTEL_EXPORTER_OTLP_* variables (headers, timeout)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

if TYPE_CHECKING:
    from core.context import Services
    from settings import Settings


def tracer_provider_from(settings: Settings) -> TracerProvider | None:
    if not settings.otel_exporter_otlp_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
    endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def instrument(services: Services, provider: TracerProvider) -> None:
    """Spans for every SQL statement and Redis command of this app's own clients."""
    engines = [engine.sync_engine for engine in services.db.engines]
    # Its declared range stops before SQLAlchemy 2.1; it only uses engine events, which 2.1 keeps.
    SQLAlchemyInstrumentor().instrument(engines=engines, tracer_provider=provider, skip_dep_check=True)
    if services.redis is not None:
        RedisInstrumentor.instrument_client(services.redis, tracer_provider=provider)


def uninstrument(services: Services, provider: TracerProvider) -> None:
    SQLAlchemyInstrumentor().uninstrument()
    if services.redis is not None:
        RedisInstrumentor.uninstrument_client(services.redis)
    provider.force_flush()
