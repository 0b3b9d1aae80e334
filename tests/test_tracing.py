"""OpenTelemetry: a span per GraphQL operation named after it, database and Redis spans under it,
the caller's traceparent continued; nothing without configuration. An in-memory exporter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app import create_app
from core.clock import ManualClock
from core.tracing import tracer_provider_from
from server.tracing import TraceContext
from settings import Settings
from tests.harness import test_settings

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
SIGN_UP = 'mutation SignUp { signUp(input: {username: "traced", password: "long enough"}) { token } }'


@asynccontextmanager
async def traced_client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(settings, clock=ManualClock(), tracer_provider=provider)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield client, exporter


def descends_from(span: ReadableSpan, ancestor: ReadableSpan, spans: dict[int, ReadableSpan]) -> bool:
    while span.parent is not None:
        if span.parent.span_id == ancestor.context.span_id:
            return True
        parent = spans.get(span.parent.span_id)
        if parent is None:
            return False
        span = parent
    return False


async def test_an_operation_span_continues_the_callers_trace(
    database_url: str, app_redis_url: str | None, tmp_path: Path
) -> None:
    settings = test_settings(database_url, app_redis_url, tmp_path / "data")
    async with traced_client(settings) as (client, exporter):
        response = await client.post(
            "/graphql",
            json={"query": SIGN_UP},
            headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
        )
        assert response.json()["data"]["signUp"]["token"]
    spans = exporter.get_finished_spans()
    by_id = {span.context.span_id: span for span in spans}
    operation = next(span for span in spans if span.name == "mutation SignUp")
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "SignUp"
    assert operation.attributes["graphql.operation.type"] == "mutation"
    assert format(operation.context.trace_id, "032x") == TRACE_ID
    assert operation.parent is not None and format(operation.parent.span_id, "016x") == PARENT_ID
    database = [
        span for span in spans if (span.attributes or {}).get("db.system") in ("sqlite", "postgresql")
    ]
    assert database and all(descends_from(span, operation, by_id) for span in database)
    if app_redis_url is not None:  # the production-like run: rate limits live in Redis
        redis = [span for span in spans if (span.attributes or {}).get("db.system") == "redis"]
        assert redis and all(descends_from(span, operation, by_id) for span in redis)


async def test_failed_operations_carry_their_codes(tmp_path: Path, database_url: str) -> None:
    async with traced_client(test_settings(database_url, None, tmp_path / "data")) as (client, exporter):
        await client.post("/graphql", json={"query": "query Broken { nope }"})
    broken = next(span for span in exporter.get_finished_spans() if span.name == "query Broken")
    assert broken.attributes is not None
    assert broken.attributes["graphql.error.codes"] == ("BAD_USER_INPUT",)


def test_tracing_is_off_unless_configured(tmp_path: Path) -> None:
    assert tracer_provider_from(Settings()) is None
    app = create_app(test_settings(f"sqlite+aiosqlite:///{tmp_path}/e.db", None, tmp_path))
    assert TraceContext not in [getattr(middleware, "cls", None) for middleware in app.user_middleware]
    configured = tracer_provider_from(Settings(otel_exporter_otlp_endpoint="http://127.0.0.1:4318"))
    assert configured is not None
    configured.shutdown()


FEED = "query Feed { feed(first: 5) { edges { node { caption author { username } media { url } } } } }"


async def test_the_compiled_feed_pages_own_statement_is_a_database_span(
    database_url: str, app_redis_url: str | None, tmp_path: Path
) -> None:
    """On PostgreSQL the compiled feed page runs its one statement on the driver's connection
    (execution/joined.py): it is still traced, under the operation, and its span is ended."""
    settings = test_settings(database_url, app_redis_url, tmp_path / "data")
    async with traced_client(settings) as (client, exporter):
        token = (await client.post("/graphql", json={"query": SIGN_UP})).json()["data"]["signUp"]["token"]
        response = await client.post(
            "/graphql", json={"query": FEED}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.json()["data"] == {"feed": {"edges": []}}
    spans = exporter.get_finished_spans()
    by_id = {span.context.span_id: span for span in spans}
    operation = next(span for span in spans if span.name == "query Feed")
    texts = [
        str((span.attributes or {}).get("db.statement") or (span.attributes or {}).get("db.query.text"))
        for span in spans
        if descends_from(span, operation, by_id)
    ]
    assert any("FROM posts" in text for text in texts), texts
    if not database_url.startswith("sqlite"):
        assert any("array_agg" in text for text in texts), texts
