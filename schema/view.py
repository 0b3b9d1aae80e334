"""The GraphQL endpoint: builds each request's context and authenticates WebSocket connections."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from resolvers.auth import authenticate
from resolvers.context import RequestContext, Services
from subscriptions import InvalidEvent, PubSubError, parse_event, token_channel

log = logging.getLogger("ephemera.ws")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _services(request: Request | WebSocket) -> Services:
    services: Services = request.app.state.services
    return services


# The close code a socket gets when its token is revoked (logOut): sign in again.
TOKEN_REVOKED = (4403, "Token revoked")


@dataclass
class SocketContext(RequestContext):
    """The context of one WebSocket: it lives as long as the socket, with its token watcher."""

    websocket: WebSocket | None = None
    watcher: asyncio.Task[None] | None = None


class GraphQLView(GraphQL[RequestContext, None]):
    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if not isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        ctx = await self.get_context(request, request)
        try:
            return await super().run(request, ctx, root_value)
        finally:
            if isinstance(ctx, SocketContext) and ctx.watcher is not None:
                ctx.watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ctx.watcher

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        services = _services(request)
        client = request.client.host if request.client else "unknown"
        ctx = (
            SocketContext(services, client_addr=client, websocket=request)
            if isinstance(request, WebSocket)
            else RequestContext(services, client_addr=client)
        )
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
        viewer = await authenticate(context.services, authorization)
        if viewer is None:
            raise ConnectionRejectionError()
        if isinstance(context, SocketContext):
            # Watch first, then check the token again: a logOut in between is not missed.
            ready = asyncio.get_running_loop().create_future()
            context.watcher = asyncio.create_task(
                _close_on_revoke(context, viewer.token_id, authorization, ready)
            )
            await ready
            viewer = await authenticate(context.services, authorization)
            if viewer is None:
                raise ConnectionRejectionError()
        context.viewer = viewer
        return None


async def _close_on_revoke(
    ctx: SocketContext, token_id: int, authorization: str, ready: asyncio.Future[None]
) -> None:
    """Close the socket when its token is revoked on any instance (logOut publishes on its channel).

    After a broker reconnect (resync) the revocation may have been missed: ask the database.
    """
    try:
        async with ctx.services.pubsub.subscribe(token_channel(token_id)) as subscription:
            ready.set_result(None)
            async for message in subscription:
                try:
                    event = parse_event(message.event)
                except InvalidEvent:
                    continue
                if event["type"] == "token_revoked" or (
                    event["type"] == "resync" and await authenticate(ctx.services, authorization) is None
                ):
                    break
            else:
                return
    except PubSubError:
        log.warning("token watcher for %s lost its subscription; closing the socket", token_id)
    finally:
        if not ready.done():
            ready.set_result(None)
    ctx.viewer = None
    if ctx.websocket is not None:
        with contextlib.suppress(RuntimeError, OSError):
            await ctx.websocket.close(*TOKEN_REVOKED)
