"""GraphQL over WebSocket (graphql-transport-ws): authentication at connect, closing sockets whose
token is revoked, server keep-alive pings, and a drain that closes every socket on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from core.context import RequestContext
from core.observability import WEBSOCKETS
from resolvers.auth import authenticate
from server.context import fill_context, services_of
from server.keepalive import KeepAliveHandler
from subscriptions import InvalidEvent, PubSubError, parse_event, token_channel

log = logging.getLogger("ephemera.ws")

# The close code a socket gets when its token is revoked (logOut): sign in again.
TOKEN_REVOKED = (4403, "Token revoked")


@dataclass
class SocketContext(RequestContext):
    """The context of one WebSocket: it lives as long as the socket, with its token watcher."""

    websocket: WebSocket | None = None
    watcher: asyncio.Task[None] | None = None


class GraphQLWebSocket(GraphQL[RequestContext, None]):
    graphql_transport_ws_handler_class = KeepAliveHandler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_sockets: set[Send] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.open_sockets.add(send)
        WEBSOCKETS.inc()
        try:
            await super().__call__(scope, receive, send)
        finally:
            WEBSOCKETS.dec()
            self.open_sockets.discard(send)

    async def drain(self) -> None:
        """Close every WebSocket with 1001 (going away) so clients reconnect to another instance."""
        for send in list(self.open_sockets):
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": 1001, "reason": "server shutting down"})

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        ctx = await self.get_context(request, request)
        try:
            return await super().run(request, ctx, root_value)
        finally:
            if ctx.watcher is not None:
                ctx.watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ctx.watcher

    async def get_context(self, request: WebSocket, response: WebSocket) -> SocketContext:  # type: ignore[override]
        ctx = SocketContext(services_of(request), websocket=request)
        fill_context(ctx, request)
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
