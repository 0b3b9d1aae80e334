"""The Starlette application: settings, adapters, routes and lifespan, wired together."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from media import local_media_routes
from resolvers.clock import Clock, SystemClock
from resolvers.observability import REGISTRY, configure_logging
from schema import build_schema
from schema.body_limit import BodyLimit
from schema.explorer import explorer_routes
from schema.view import GraphQLView
from services import (
    background_jobs,
    check_ready,
    close_services,
    local_storage,
    open_services,
    run_periodically,
)
from settings import Settings

log = logging.getLogger("ephemera")


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def metrics(request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def readyz(request: Request) -> JSONResponse:
    status = await check_ready(request.app.state.services)
    ready = all(value == "ok" for value in status.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", **status}, status_code=200 if ready else 503
    )


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Starlette:
    settings = (settings or Settings.from_env()).with_secret()
    settings.validate()
    view = GraphQLView(
        build_schema(settings),
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        keep_alive=True,
        keep_alive_interval=settings.ws_keepalive_seconds,
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        allowed_origins=settings.allowed_origins or (() if settings.is_production else ("*",)),
    )

    local = None if settings.s3_bucket else local_storage(settings, clock or SystemClock())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = await open_services(settings, clock, local)
        app.state.services = services
        jobs = [
            asyncio.create_task(run_periodically(services, name, job, interval))
            for name, job, interval in background_jobs(services)
        ]
        try:
            yield
        finally:
            for task in jobs:
                task.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            await close_services(services)

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/graphql", BodyLimit(view, settings.max_body_bytes), methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        *(local_media_routes(local) if local else []),
        *(explorer_routes() if settings.graphiql_enabled else []),
    ]
    origins = list(settings.allowed_origins) or ([] if settings.is_production else ["*"])
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        )
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.settings = settings
    app.state.graphql = view
    return app


class DrainingServer(uvicorn.Server):
    """On shutdown, closes GraphQL WebSockets with 1001 before uvicorn's own (1012) teardown."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.app
        view = getattr(getattr(app, "state", None), "graphql", None)
        if isinstance(view, GraphQLView):
            await view.drain()
        await super().shutdown(sockets)


def server_config(app: Starlette, settings: Settings, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        ws="websockets-sansio",
        ws_max_size=settings.ws_max_message_bytes,
        timeout_graceful_shutdown=10,
        log_config=None,
        **options,
    )


def __getattr__(name: str) -> Any:
    # `uvicorn app:app` builds the app on first access, not at import (tests import this module).
    if name == "app":
        return create_app()
    raise AttributeError(name)


def main() -> None:
    from migrations.runner import NotMigrated
    from settings import SettingsError

    configure_logging()
    try:
        settings = Settings.from_env().with_secret()
        app = create_app(settings)
        if not settings.should_migrate_on_start:
            asyncio.run(_check_migrated(settings))
    except (SettingsError, NotMigrated) as exc:
        print(f"ephemera: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    DrainingServer(server_config(app, settings)).run()


async def _check_migrated(settings: Settings) -> None:
    from migrations.runner import ensure_at_head
    from models.database import Database

    db = Database.open(settings.effective_database_url)
    try:
        await ensure_at_head(db.writer)
    finally:
        await db.close()


if __name__ == "__main__":
    main()
