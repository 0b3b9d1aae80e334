"""The Starlette application: GraphQL over HTTP and WebSocket, health, metrics, media and GraphiQL."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from strawberry import Schema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from core.observability import REGISTRY
from execution.executor import install, plans_of
from media import LocalStorage
from schema import SchemaSettings
from server.ahead import AheadOfPipeline
from server.body_limit import BodyLimit
from server.explorer import explorer_routes
from server.http import GraphQLHTTP
from server.media_routes import local_media_routes
from server.persisted import Documents, MemoryQueryStore, Registration
from server.routes import ReadinessCheck, health_routes, metrics_collector, metrics_route
from server.tracing import TraceContext
from server.trusted import TrustedDocuments
from server.ws import GraphQLWebSocket
from settings import Settings


class Application(Starlette):
    """Starlette, with GraphQL WebSockets taken straight to their view: the middleware stack and the
    router would otherwise stay suspended (a coroutine and closures per layer) for each socket's
    life. CORS does not apply to WebSockets (the view checks the Origin), and the view answers
    its own errors; a traced app keeps the full stack (its middleware traces the handshake)."""

    graphql_sockets: GraphQLWebSocket | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.graphql_sockets
        direct = scope["type"] == "websocket" and scope["path"] == "/graphql" and not scope.get("root_path")
        if lane is not None and direct:
            scope["app"] = self
            await lane(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def persisted_documents(settings: Settings) -> Documents:
    manifest = settings.trusted_documents_manifest
    trusted = TrustedDocuments.load(manifest, settings.max_tokens) if manifest else None
    return Documents(
        apq=settings.persisted_queries == "on",
        memory=MemoryQueryStore(
            settings.persisted_queries_cache_size, settings.persisted_queries_cache_bytes
        ),
        ttl=settings.persisted_queries_ttl_seconds,
        trusted=trusted,
        required=settings.trusted_documents == "required",
        registration=Registration(
            max_bytes=settings.persisted_queries_max_bytes,
            per_minute=settings.persisted_queries_registrations_per_minute,
        ),
    )


def _ahead(schema: Schema) -> AheadOfPipeline | None:
    """Planned queries ahead of the pipeline, with the limits and tracer the schema was built with."""
    plans, limits = plans_of(schema), getattr(schema, "limits", None)
    if plans is None or not isinstance(limits, SchemaSettings):
        return None
    tracer = getattr(schema, "tracer", None)
    return AheadOfPipeline(schema._schema, plans, max_cost=limits.max_query_cost, tracer=tracer)


Lifespan = Callable[[Application], AbstractAsyncContextManager[None]]


def build_application(
    settings: Settings,
    schema: Schema,
    *,
    lifespan: Lifespan,
    readiness: ReadinessCheck,
    local_storage: LocalStorage | None,
    traced: bool = False,
) -> Application:
    documents = persisted_documents(settings)
    install(schema)
    collect = metrics_collector(REGISTRY, settings.metrics_dir)

    async def metrics_text(request: Request) -> bytes:
        await readiness(request)  # refreshes ephemera_dependency_up
        return collect()

    # GraphiQL keeps working in development when only trusted documents may run.
    explorer_exempt = settings.graphiql_enabled and not settings.is_production
    http = GraphQLHTTP(
        schema,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        documents=documents,
        max_batch_operations=settings.max_batch_operations,
        cache_max_age=settings.persisted_queries_max_age_seconds,
        explorer_exempt=explorer_exempt,
        ahead=_ahead(schema),
    )
    websockets = GraphQLWebSocket(
        schema,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        keep_alive=True,
        keep_alive_interval=settings.ws_keepalive_seconds,
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        allowed_origins=settings.browser_origins,
        documents=documents,
        explorer_exempt=explorer_exempt,
    )
    routes: list[BaseRoute] = [
        *health_routes(readiness),
        *metrics_route(metrics_text, public=not settings.is_production, token=settings.metrics_token),
        # Every method reaches the view, which refuses all but GET and POST with a coded JSON error.
        Route("/graphql", BodyLimit(http, settings.max_body_bytes)),
        WebSocketRoute("/graphql", websockets),
        *(local_media_routes(local_storage) if local_storage else []),
        *(explorer_routes() if settings.graphiql_enabled else []),
    ]
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.browser_origins),
            allow_methods=["GET", "POST"],
            allow_headers=list(settings.cors_allowed_headers),
            max_age=settings.cors_max_age_seconds,
        )
    ]
    if traced:
        middleware.append(Middleware(TraceContext))
    app = Application(routes=routes, lifespan=lifespan, middleware=middleware)
    app.graphql_sockets = None if traced else websockets
    app.state.settings = settings
    app.state.websockets = websockets
    return app
