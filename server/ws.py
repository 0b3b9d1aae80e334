"""GraphQL over WebSocket (graphql-transport-ws): strict authentication at connect, closing sockets
whose token is revoked or expires, server keep-alive pings, and a drain that closes every socket on
shutdown.

The `connection_init` payload is either empty (anonymous) or `{"Authorization": "Bearer <token>"}`;
anything else is refused (4400 for another shape; 4403 for a token that cannot be used, the close
reason saying why: "Token malformed", "Token unknown", "Token expired", "Token revoked") rather than
silently becoming anonymous."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types.unset import UNSET, UnsetType

from core.context import RequestContext
from core.errors import BadToken
from core.observability import WEBSOCKETS
from core.redis_client import RedisClient
from resolvers.accounts.auth import authenticate, live_token_expiry
from server.body import UnreadableJSON, load_json
from server.context import fill_context, from_own_page, services_of
from server.keepalive import KeepAlive
from server.persisted import Documents
from server.socket_heap import SocketHeap
from server.token_expiry import ExpiryWatch
from server.token_watch import TOKEN_REVOKED, TokenWatch
from server.ws_protocol import GraphQLTransportWSHandler, InvalidConnectionParams, RefusedToken

AUTHORIZATION = "authorization"


@dataclass
class SocketContext(RequestContext):
    """The context of one WebSocket: it lives as long as the socket; its token is watched for
    revocation by the view's TokenWatch (server/token_watch.py) and for expiry by its ExpiryWatch
    (server/token_expiry.py)."""

    websocket: WebSocket | None = None
    watched_token: int | None = None
    expiry_number: int | None = None


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
        raise RefusedToken(BadToken(BadToken.MALFORMED).close_reason)
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
        self.expiry = ExpiryWatch()
        self.heap = SocketHeap()

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
        self.heap.open()
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.heap.close()
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
            self.expiry.forget(ctx)

    async def get_context(self, request: WebSocket, response: WebSocket) -> SocketContext:  # type: ignore[override]
        ctx = SocketContext(services_of(request), websocket=request)
        fill_context(ctx, request)
        return ctx

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        authorization = _authorization(context.connection_params)
        if authorization is None:
            return None
        try:
            viewer = await authenticate(context.services, authorization)
        except BadToken as exc:
            raise RefusedToken(exc.close_reason) from None
        assert viewer is not None
        if isinstance(context, SocketContext):
            # Watch first, then check the token again in the database: a logOut in between is not
            # missed, whatever the token cache still holds.
            await self.tokens.watch(context, viewer.token_id)
            expires = await live_token_expiry(context.services, viewer.token_id)
            if expires is None:
                raise RefusedToken(TOKEN_REVOKED[1])
            self.expiry.watch(context, expires)
        context.viewer = viewer
        return None
