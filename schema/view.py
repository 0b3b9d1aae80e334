"""The GraphQL endpoint: builds each request's context and authenticates WebSocket connections."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from models.database import release_shared_read
from resolvers.auth import authenticate
from resolvers.context import RequestContext, Services
from resolvers.observability import WEBSOCKETS
from resolvers.shared_read import SharedRead
from schema import explorer
from schema.ws_keepalive import KeepAliveHandler
from subscriptions import InvalidEvent, PubSubError, parse_event, token_channel

log = logging.getLogger("ephemera.ws")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _accepts_graphql_response(request: Request) -> bool:
    return GRAPHQL_RESPONSE in request.headers.get("accept", "")


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


GRAPHQL_RESPONSE = "application/graphql-response+json"


def is_request_error(result: ExecutionResult) -> bool:
    """Parsing, validation, coercion or a limit refused the request: nothing was executed."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.original_error is None for error in result.errors or ())
    )


class GraphQLView(GraphQL[RequestContext, None]):
    """GraphQL over HTTP as the spec asks: with `Accept: application/graphql-response+json`,
    requests that cannot execute get 4xx and no `data` entry; responses use that media type."""

    graphql_transport_ws_handler_class = KeepAliveHandler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            self.open_sockets.add(send)
            WEBSOCKETS.inc()
            try:
                await super().__call__(scope, receive, send)
            finally:
                WEBSOCKETS.dec()
                self.open_sockets.discard(send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            # The only 405 this view answers is a mutation sent with GET: say which method works.
            if message["type"] == "http.response.start" and message["status"] == 405:
                message = {**message, "headers": [*message.get("headers", []), (b"allow", b"POST")]}
            await send(message)

        await super().__call__(scope, receive, send_with_allow)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if not isinstance(request, WebSocket):
            try:
                return await super().run(request, context, root_value)
            finally:
                # Before the response is sent: the connection goes back to the pool at once.
                shared: SharedRead | None = getattr(request.state, "shared_read", None)
                if shared is not None:
                    await shared.close()
                    release_shared_read.set(None)
        ctx = await self.get_context(request, request)
        try:
            return await super().run(request, ctx, root_value)
        finally:
            if isinstance(ctx, SocketContext) and ctx.watcher is not None:
                ctx.watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ctx.watcher

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_sockets: set[Send] = set()

    async def drain(self) -> None:
        """Close every WebSocket with 1001 (going away) so clients reconnect to another instance."""
        for send in list(self.open_sockets):
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": 1001, "reason": "server shutting down"})

    async def render_graphql_ide(self, request: Request) -> Response:
        if explorer.assets_installed():
            return HTMLResponse(explorer.page())
        return await super().render_graphql_ide(request)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        request.state.sub_response = sub_response
        if isinstance(request, Request) and _accepts_graphql_response(request):
            sub_response.graphql_response_type = True  # type: ignore[attr-defined]
        return sub_response

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            if request_adapter.method == "GET" and "not allowed when using GET" in exc.reason:
                raise HTTPException(405, exc.reason) from exc
            raise

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        if _accepts_graphql_response(request) and is_request_error(result):
            request.state.sub_response.status_code = 400
            processed.pop("data", None)
        return processed

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if getattr(sub_response, "graphql_response_type", False):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
        return response

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
            ctx.shared_read = request.state.shared_read = SharedRead(services.db)
            release_shared_read.set(ctx.shared_read.release)
            ctx.viewer = await authenticate(services, request.headers.get("authorization"), ctx.read)
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
