"""GraphQL over HTTP: spec status codes, coded JSON refusals, one read session per request, GraphiQL."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from core.context import Reader, RequestContext, Services, Viewer
from core.database import release_shared_read
from core.errors import BadToken
from core.shared_read import SharedRead
from resolvers.accounts.auth import authenticate
from resolvers.accounts.session_activity import session_activity
from schema.extensions.errors import is_input_error
from server import explorer
from server.ahead import AheadOfPipeline
from server.body import OperationRequest, RequestError, read_request
from server.context import fill_context, from_own_page, services_of
from server.persisted import Documents

GRAPHQL_RESPONSE = "application/graphql-response+json"
CODES = {404: "NOT_FOUND"}


def _accepts_graphql_response(request: Request) -> bool:
    return GRAPHQL_RESPONSE in request.headers.get("accept", "")


def is_request_error(result: ExecutionResult) -> bool:
    """Parsing, validation, variable coercion or a limit refused the request: nothing was executed."""
    return result.data is None and bool(result.errors) and all(map(is_input_error, result.errors or ()))


def refusal(request: Request, exc: HTTPException) -> Response:
    """A request refused before execution, as a GraphQL response: JSON with `extensions.code`."""
    code = exc.code if isinstance(exc, RequestError) else CODES.get(exc.status_code, "BAD_REQUEST")
    extensions = exc.extensions if isinstance(exc, RequestError) else {}
    headers = exc.headers if isinstance(exc, RequestError) else {}
    media_type = GRAPHQL_RESPONSE if _accepts_graphql_response(request) else "application/json"
    body = {"errors": [{"message": exc.reason, "extensions": {"code": code, **extensions}}]}
    return JSONResponse(body, exc.status_code, headers=headers, media_type=media_type)


def _over_http(method: str) -> set[OperationType]:
    """Queries over GET; queries and mutations over POST. Subscriptions use the WebSocket."""
    return {OperationType.QUERY} if method == "GET" else {OperationType.QUERY, OperationType.MUTATION}


def _operation_error(exc: Exception, method: str) -> RequestError:
    if isinstance(exc, InvalidOperationTypeError):
        if exc.operation_type is OperationType.SUBSCRIPTION:
            return RequestError(
                400, "Subscriptions run over the WebSocket at this path (graphql-transport-ws)."
            )
        return RequestError(
            405 if method == "GET" else 400, exc.as_http_error_reason(method), headers={"Allow": "POST"}
        )
    if isinstance(exc, CannotGetOperationTypeError):
        if exc.operation_name is None:
            return RequestError(400, "The document has several operations: say which in `operationName`.")
        return RequestError(400, exc.as_http_error_reason())
    return RequestError(400, "No GraphQL query found in the request.")


async def _viewer(services: Services, authorization: str | None, read: Reader) -> Viewer | None:
    """No Authorization header (or an empty one, as many client set-ups send when signed out) is
    anonymous; a token that cannot be used is refused with 401, never made anonymous."""
    if authorization is None or not authorization.strip():
        return None
    try:
        try:
            return await authenticate(services, authorization, read)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The server ended the connection under the token check (a restart, a failover,
            # pg_terminate_backend): a read, so once more on a fresh connection, not a 500.
            return await authenticate(services, authorization, read)
    except BadToken as exc:
        raise RequestError(
            401,
            exc.message,
            code=exc.code,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            reason=exc.reason,
        ) from None


class GraphQLHTTP(GraphQL[RequestContext, None]):
    """GraphQL over HTTP as the spec asks: with `Accept: application/graphql-response+json`,
    requests that cannot execute get 4xx and no `data` entry; responses use that media type.
    Whatever cannot be read as a GraphQL request is refused with a coded JSON error.

    Each request's loaders share one read session (core/shared_read.py), returned to the pool
    before the response is sent."""

    def __init__(
        self,
        *args: Any,
        documents: Documents,
        max_batch_operations: int = 10,
        cache_max_age: int = 0,
        explorer_exempt: bool = False,
        ahead: AheadOfPipeline | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.documents = documents
        self.ahead = ahead
        self.max_batch_operations = max_batch_operations
        self.cache_max_age = cache_max_age
        self.explorer_exempt = explorer_exempt

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = refusal(request, exc)
        await response(scope, receive, send)

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
        ctx.cost_left = services.settings.request_cost_limit
        ctx.viewer = await _viewer(services, request.headers.get("authorization"), ctx.read)
        if ctx.viewer is not None:
            session_activity(services).seen(ctx.viewer.token_id, services.clock.now())
        await services.db.route_reads(ctx.viewer_id)
        return ctx

    def is_request_allowed(self, request: Any) -> bool:
        if request.method in ("GET", "POST"):
            return True
        raise RequestError(405, "Send GraphQL requests with GET or POST.", headers={"Allow": "GET, POST"})

    def should_render_graphql_ide(self, request: Any) -> bool:
        params = request.query_params
        return super().should_render_graphql_ide(request) and not (
            params.get("documentId") or params.get("extensions")
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        if explorer.assets_installed():
            return HTMLResponse(explorer.page())
        return await super().render_graphql_ide(request)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await read_request(request, self.max_batch_operations)
        return data  # type: ignore[return-value]

    async def get_sub_response(self, request: Request) -> Response:  # type: ignore[override]
        sub_response = await super().get_sub_response(request)
        request.state.sub_response = sub_response
        if _accepts_graphql_response(request):
            sub_response.graphql_response_type = True  # type: ignore[attr-defined]
        return sub_response

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: RequestContext,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        request.state.batch = isinstance(request_data, list)
        if not isinstance(request_data, list):
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        # A batch runs in order, as that many requests would: its operations share one context
        # (viewer, loaders, read session), and each is limited, costed and rate-limited on its own.
        return [
            await self.execute_single(request, request_adapter, sub_response, context, root_value, data)
            for data in request_data
        ]

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        assert isinstance(request_data, OperationRequest)
        redis = context.services.redis
        try:
            exempt = self.explorer_exempt and from_own_page(request)
            resolved = await self.documents.resolve(request_data, redis, exempt)
            result = await self._execute(request, request_adapter, sub_response, context, resolved.operation)
            if resolved.remember and resolved.operation.query and not is_request_error(result):
                schema = self.schema._schema  # type: ignore[attr-defined]
                await self.documents.remember(resolved.remember, resolved.operation.query, schema, context)
            if request_adapter.method == "GET" and request_data.query is None:
                self._cacheable(request, sub_response, result)
            return result
        except RequestError as exc:
            if not request.state.batch:
                raise
            # One operation of a batch: its own error, the others still run.
            error = GraphQLError(exc.reason, extensions={"code": exc.code, **exc.extensions})
            return ExecutionResult(data=None, errors=[error])

    def _cacheable(self, request: Request, sub_response: Response, result: ExecutionResult) -> None:
        """A GET naming its document by hash or id has a short, stable URL: anonymous answers
        without errors may be cached by browsers and CDNs."""
        anonymous = "authorization" not in request.headers
        if anonymous and not result.errors and self.cache_max_age > 0:
            sub_response.headers["cache-control"] = f"public, max-age={self.cache_max_age}"
        else:
            sub_response.headers["cache-control"] = "no-store"
        sub_response.headers["vary"] = "Accept, Authorization"

    async def _execute(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        request_data: OperationRequest,
    ) -> ExecutionResult:
        """A planned query already answered once runs ahead of strawberry's pipeline (server/ahead.py)."""

        async def pipeline() -> ExecutionResult:
            try:
                return await self.schema.execute(
                    request_data.query,
                    root_value=None,
                    variable_values=request_data.variables,
                    context_value=context,
                    operation_name=request_data.operation_name,
                    allowed_operation_types=_over_http(request_adapter.method),
                    operation_extensions=request_data.extensions,
                )
            except (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError) as exc:
                raise _operation_error(exc, request_adapter.method) from None

        if self.ahead is None:
            return await pipeline()
        query, name, variables = request_data.query, request_data.operation_name, request_data.variables
        return await self.ahead.execute(query, name, variables, context, pipeline)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        if _accepts_graphql_response(request) and not request.state.batch and is_request_error(result):
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
