"""What every GraphQL context starts from, over HTTP or a WebSocket: the client and the request id."""

from __future__ import annotations

import re

from starlette.requests import HTTPConnection
from strawberry.http.websocket_origin import is_same_origin

from core.context import RequestContext, Services

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def services_of(connection: HTTPConnection) -> Services:
    """The adapters opened by the app's lifespan."""
    services: Services = connection.app.state.services
    return services


def fill_context(ctx: RequestContext, connection: HTTPConnection) -> RequestContext:
    """The client's address, and its X-Request-ID when well formed (else a generated one)."""
    ctx.client_addr = connection.client.host if connection.client else "unknown"
    ctx.user_agent = connection.headers.get("user-agent", "")[:255] or None
    supplied = connection.headers.get("x-request-id", "")
    if _REQUEST_ID.fullmatch(supplied):
        ctx.request_id = supplied
    return ctx


def from_own_page(connection: HTTPConnection) -> bool:
    """A request (or socket) whose Origin is this server itself: GraphiQL served from here."""
    origin = connection.headers.get("origin")
    return origin is not None and is_same_origin(origin, connection.headers.get("host"))
