"""The GraphQL endpoint: builds each request's context and authenticates WebSocket connections."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from resolvers.auth import authenticate
from resolvers.context import RequestContext, Services

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _services(request: Request | WebSocket) -> Services:
    services: Services = request.app.state.services
    return services


class GraphQLView(GraphQL[RequestContext, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        services = _services(request)
        client = request.client.host if request.client else "unknown"
        ctx = RequestContext(services, client_addr=client)
        supplied = request.headers.get("x-request-id", "")
        if _REQUEST_ID.fullmatch(supplied):
            ctx.request_id = supplied
        if isinstance(request, Request):
            ctx.viewer = await authenticate(services, request.headers.get("authorization"))
        return ctx

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        params: dict[str, Any] = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if authorization is None:
            return None
        if not isinstance(authorization, str):
            raise ConnectionRejectionError()
        context.viewer = await authenticate(context.services, authorization)
        if context.viewer is None:
            raise ConnectionRejectionError()
        return None
