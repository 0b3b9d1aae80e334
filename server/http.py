"""GraphQL over HTTP: spec status codes, one read session per request, and GraphiQL."""

from __future__ import annotations

from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from core.context import RequestContext
from core.database import release_shared_read
from core.shared_read import SharedRead
from resolvers.auth import authenticate
from server import explorer
from server.context import fill_context, services_of

GRAPHQL_RESPONSE = "application/graphql-response+json"


def _accepts_graphql_response(request: Request) -> bool:
    return GRAPHQL_RESPONSE in request.headers.get("accept", "")


def is_request_error(result: ExecutionResult) -> bool:
    """Parsing, validation, coercion or a limit refused the request: nothing was executed."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.original_error is None for error in result.errors or ())
    )


class GraphQLHTTP(GraphQL[RequestContext, None]):
    """GraphQL over HTTP as the spec asks: with `Accept: application/graphql-response+json`,
    requests that cannot execute get 4xx and no `data` entry; responses use that media type.

    Each request's loaders share one read session (core/shared_read.py), returned to the pool
    before the response is sent."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_allow(message: Message) -> None:
            # The only 405 this view answers is a mutation sent with GET: say which method works.
            if message["type"] == "http.response.start" and message["status"] == 405:
                message = {**message, "headers": [*message.get("headers", []), (b"allow", b"POST")]}
            await send(message)

        await super().__call__(scope, receive, send_with_allow)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        finally:
            shared: SharedRead | None = getattr(request.state, "shared_read", None)
            if shared is not None:
                await shared.close()
                release_shared_read.set(None)

    async def get_context(self, request: Request, response: Response) -> RequestContext:  # type: ignore[override]
        services = services_of(request)
        ctx = fill_context(RequestContext(services), request)
        ctx.shared_read = request.state.shared_read = SharedRead(services.db)
        release_shared_read.set(ctx.shared_read.release)
        ctx.viewer = await authenticate(services, request.headers.get("authorization"), ctx.read)
        return ctx

    async def render_graphql_ide(self, request: Request) -> Response:
        if explorer.assets_installed():
            return HTMLResponse(explorer.page())
        return await super().render_graphql_ide(request)

    async def get_sub_response(self, request: Request) -> Response:  # type: ignore[override]
        sub_response = await super().get_sub_response(request)
        request.state.sub_response = sub_response
        if _accepts_graphql_response(request):
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
