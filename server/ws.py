"""GraphQL over WebSocket (graphql-transport-ws): strict authentication at connect, closing sockets
whose token is revoked or expires, server keep-alive pings, and a drain that closes every socket on
shutdown.

The `connection_init` payload is either empty (anonymous) or `{"Authorization": "Bearer <token>"}`;
anything else is refused (4400 for another shape, 4403 for a token that is not a valid bearer
token) rather than silently becoming anonymous."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from core.context import RequestContext, Services
from core.observability import WEBSOCKETS
from core.redis_client import RedisClient
from resolvers.auth import authenticate, token_expiry
from server.body import UnreadableJSON, load_json
from server.context import fill_context, from_own_page, services_of
from server.keepalive import KeepAlive
from server.persisted import Documents
from server.ws_protocol import GraphQLTransportWSHandler, InvalidConnectionParams
from subscriptions import InvalidEvent, PubSubError, parse_event, revocations_channel

log = logging.getLogger("ephemera.ws")

# The close codes a socket gets when its token is revoked (logOut) or expires: sign in again.
TOKEN_REVOKED = (4403, "Token revoked")
TOKEN_EXPIRED = (4403, "Token expired")
AUTHORIZATION = "authorization"


@dataclass
class SocketContext(RequestContext):
    """The context of one WebSocket: it lives as long as the socket, with its expiry watcher; its
    token is watched for revocation by the view's TokenWatch."""

    websocket: WebSocket | None = None
    watchers: list[asyncio.Task[None]] = field(default_factory=list)
    watched_token: int | None = None


def _authorization(params: dict[str, Any] | None) -> str | None:
    """The token line of a `connection_init` payload of the documented shape."""
    params = params or {}
    unknown = [key for key in params if key.lower() != AUTHORIZATION]
    if unknown or len(params) > 1:
        raise InvalidConnectionParams(
            'Invalid connection_init payload: send {"Authorization": "Bearer <token>"} or nothing'
        )
    value = next(iter(params.values()), None)
    if value is not None and not isinstance(value, str):
        raise ConnectionRejectionError()
    return value


class GraphQLWebSocket(GraphQL[RequestContext, None]):
    graphql_transport_ws_handler_class = GraphQLTransportWSHandler

    def __init__(
        self, *args: Any, documents: Documents, explorer_exempt: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.documents = documents
        self.explorer_exempt = explorer_exempt
        self.open_sockets: set[Send] = set()
        # One keep-alive timer for all the sockets (server/keepalive.py), not a task per socket.
        self.keepalive = KeepAlive(float(self.keep_alive_interval or 15)) if self.keep_alive else None
        self.tokens = TokenWatch()

    def redis_of(self, context: RequestContext) -> RedisClient | None:
        return context.services.redis

    def exempt(self, handler: Any) -> bool:
        """GraphiQL's own page (same origin) outside production may run any document."""
        websocket = getattr(handler.context, "websocket", None)
        if not self.explorer_exempt or websocket is None:
            return False
        return from_own_page(websocket)

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

    def decode_json(self, data: str | bytes) -> object:
        try:
            return load_json(data)
        except UnreadableJSON as exc:  # strawberry closes the socket with 4400 for invalid JSON
            raise json.JSONDecodeError(str(exc), "", 0) from None

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        ctx = await self.get_context(request, request)
        try:
            return await super().run(request, ctx, root_value)
        finally:
            self.tokens.forget(ctx)
            for watcher in ctx.watchers:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    async def get_context(self, request: WebSocket, response: WebSocket) -> SocketContext:  # type: ignore[override]
        ctx = SocketContext(services_of(request), websocket=request)
        fill_context(ctx, request)
        return ctx

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        authorization = _authorization(context.connection_params)
        if authorization is None:
            return None
        viewer = await authenticate(context.services, authorization)
        if viewer is None:
            raise ConnectionRejectionError()
        if isinstance(context, SocketContext):
            # Watch first, then check the token again: a logOut in between is not missed.
            await self.tokens.watch(context, viewer.token_id)
            viewer = await authenticate(context.services, authorization)
            expires = await token_expiry(context.services, viewer.token_id) if viewer else None
            if viewer is None or expires is None:
                raise ConnectionRejectionError()
            context.watchers.append(asyncio.create_task(_close_at_expiry(context, expires)))
        context.viewer = viewer
        return None


async def _close_at_expiry(ctx: SocketContext, expires: datetime) -> None:
    """Close the socket when its token expires, as HTTP and new sockets would then refuse it."""
    await ctx.services.clock.sleep_until(expires)
    ctx.viewer = None
    if ctx.websocket is not None:
        with contextlib.suppress(RuntimeError, OSError):
            await ctx.websocket.close(*TOKEN_EXPIRED)


class TokenWatch:
    """Closes the sockets whose token is revoked (logOut) on any instance: one subscription to the
    revocations channel for every socket of the process, not a task and a channel per socket.

    After a resync from the broker (it reconnected: an announcement may be lost) or a lost
    subscription (subscribed again at once), every watched token is checked in the database."""

    def __init__(self) -> None:
        self.sockets: dict[int, list[SocketContext]] = {}
        self._task: asyncio.Task[None] | None = None
        self._live: asyncio.Future[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    async def watch(self, ctx: SocketContext, token_id: int) -> None:
        """Returns once a revocation of `token_id` announced from then on closes `ctx`'s socket."""
        self.forget(ctx)
        ctx.watched_token = token_id
        self.sockets.setdefault(token_id, []).append(ctx)
        if self._task is None or self._live is None or self._task.done():
            self._live = asyncio.get_running_loop().create_future()
            self._task = asyncio.create_task(self._run(ctx.services, self._live), name="ws-token-watch")
        await asyncio.shield(self._live)

    def forget(self, ctx: SocketContext) -> None:
        token_id, ctx.watched_token = ctx.watched_token, None
        watched = self.sockets.get(token_id, []) if token_id is not None else []
        for n, other in enumerate(watched):
            if other is ctx:
                del watched[n]
                break
        if token_id is not None and token_id in self.sockets and not watched:
            del self.sockets[token_id]
        if not self.sockets and self._task is not None:
            self._task.cancel()  # no socket left to watch for
            self._task = self._live = None

    async def _run(self, services: Services, live: asyncio.Future[None]) -> None:
        try:
            while True:
                try:
                    async with services.pubsub.subscribe(revocations_channel()) as subscription:
                        if live.done():  # subscribed again: what was announced meanwhile is lost
                            await self._check_all(services)
                        else:
                            live.set_result(None)
                        async for message in subscription:
                            await self._handle(services, message.event)
                    return  # the pub/sub closed: the process is stopping
                except PubSubError:
                    log.warning("token watch lost its subscription; subscribing again", exc_info=True)
                    await asyncio.sleep(0.1)
        except Exception:
            log.exception("token watch failed; closing the sockets it watched")
            for token_id in list(self.sockets):
                self._close(token_id)
        finally:
            if not live.done():
                live.set_result(None)

    async def _handle(self, services: Services, data: dict[str, Any]) -> None:
        try:
            event = parse_event(data)
        except InvalidEvent:
            return
        if event["type"] == "token_revoked":
            self._close(event["token_id"])
        elif event["type"] == "resync":
            await self._check_all(services)

    async def _check_all(self, services: Services) -> None:
        for token_id, sockets in list(self.sockets.items()):
            authorization = _authorization(sockets[0].connection_params) if sockets else None
            if authorization is None or await authenticate(services, authorization) is None:
                self._close(token_id)

    def _close(self, token_id: int) -> None:
        """Each socket closes in a task of its own: one slow to write waits alone."""
        for ctx in list(self.sockets.get(token_id, ())):
            self.forget(ctx)
            ctx.viewer = None
            if ctx.websocket is not None:
                task = asyncio.create_task(_close(ctx.websocket, TOKEN_REVOKED))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)


async def _close(websocket: WebSocket, code_and_reason: tuple[int, str]) -> None:
    with contextlib.suppress(RuntimeError, OSError):
        await websocket.close(*code_and_reason)
