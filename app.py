"""The application factory: settings, adapters, transport and schema, wired together."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from opentelemetry.sdk.trace import TracerProvider

from core.clock import Clock, SystemClock
from core.context import Services
from core.observability import REGISTRY
from core.tracing import instrument, tracer_provider_from, uninstrument
from schema import build_schema
from server.application import Application, build_application
from server.context import services_of
from server.metrics_listener import MetricsListener
from server.routes import metrics_collector
from services import (
    background_jobs,
    check_ready,
    close_services,
    local_storage,
    open_services,
    run_periodically,
)
from settings import Settings
from startup import StartupError


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Application:
    settings = (settings or Settings.from_env()).with_secret()
    settings.validate()
    local = None if settings.s3_bucket else local_storage(settings, clock or SystemClock())
    tracing = tracer_provider or tracer_provider_from(settings)

    @asynccontextmanager
    async def lifespan(app: Application) -> AsyncIterator[None]:
        services = await open_services(settings, clock, local)
        metrics = await metrics_listener(settings, services)
        app.state.services = services
        # What start-up built (the schema, SQLAlchemy's compiled caches, the adapters) lives as long as
        # the process: out of the collector's sight, a full collection stays short.
        gc.collect()
        gc.freeze()
        if tracing is not None:
            instrument(services, tracing)
        jobs = [
            asyncio.create_task(run_periodically(services, name, job, interval))
            for name, job, interval in background_jobs(services)
        ]
        try:
            yield
        finally:
            if metrics is not None:
                await metrics.close()
            for task in jobs:
                task.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            if tracing is not None:
                uninstrument(services, tracing)
            await close_services(services)

    return build_application(
        settings,
        build_schema(settings, tracing.get_tracer("ephemera") if tracing else None),
        lifespan=lifespan,
        readiness=lambda request: check_ready(services_of(request)),
        local_storage=local,
        traced=tracing is not None,
    )


async def metrics_listener(settings: Settings, services: Services) -> MetricsListener | None:
    """/metrics on METRICS_HOST:METRICS_PORT, when set: what production scrapes."""
    if settings.metrics_port is None:
        return None
    collect = metrics_collector(REGISTRY, settings.metrics_dir)

    async def metrics_text() -> bytes:
        await check_ready(services)  # refreshes ephemera_dependency_up
        return collect()

    listener = MetricsListener(metrics_text, settings.metrics_host, settings.metrics_port)
    try:
        await listener.start()
    except OSError as exc:
        await close_services(services)
        raise StartupError(listener.problem(exc)) from None
    return listener


def __getattr__(name: str) -> Any:
    # `uvicorn app:app` builds the app on first access, not at import (tests import this module).
    if name == "app":
        return create_app()
    raise AttributeError(name)
