"""graphql-transport-ws messages checked before strawberry handles them, as the reference server
(graphql-ws) does: a message of the wrong shape closes the socket with 4400 instead of crashing
the handler (1011), a refused `connection_init` payload closes it with 4400, and the subscription
limit answers an `error` message with a code."""

from __future__ import annotations

import contextlib
from typing import Any

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation, _OperationStreamClosed
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from server.body import OperationRequest, RequestError
from server.keepalive import KeepAliveHandler
from server.ws_subscription import is_subscription, run_subscription

_PAYLOAD_FIELDS: dict[str, type] = {
    "query": str,
    "variables": dict,
    "operationName": str,
    "extensions": dict,
    "documentId": str,
}


class InvalidConnectionParams(Exception):
    """The `connection_init` payload is not of the documented shape (raised by `on_ws_connect`)."""


class RefusedToken(Exception):
    """The `connection_init` token cannot be used: closed with 4403 and this reason."""


def _subscribe_problem(message: dict[str, Any]) -> str | None:
    op_id, payload = message.get("id"), message.get("payload")
    if not isinstance(op_id, str) or not op_id:
        return "a subscribe message needs a string id"
    if not isinstance(payload, dict) or not (payload.get("query") or payload.get("documentId")):
        return "a subscribe payload needs a query or a documentId"
    for name, kind in _PAYLOAD_FIELDS.items():
        if payload.get(name) is not None and not isinstance(payload[name], kind):
            return f"{name} has the wrong type"
    return None


class GraphQLTransportWSHandler(KeepAliveHandler):
    async def handle_message(self, message: Message) -> None:
        raw: Any = message
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            await self.handle_invalid_message("Invalid message: expected an object with a type")
            return
        if raw["type"] in ("subscribe", "complete") and not isinstance(raw.get("id"), str):
            await self.handle_invalid_message("Invalid message: expected a string id")
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
            # Cancelled by then: not kept (with its CancelledError and frames) for the socket's life.
            self.connection_init_timeout_task = None
        except InvalidConnectionParams as exc:
            await self.websocket.close(code=4400, reason=str(exc))
        except RefusedToken as exc:
            await self.websocket.close(code=4403, reason=str(exc))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        problem = _subscribe_problem(dict(message))
        if problem is not None:
            await self.handle_invalid_message(f"Invalid message: {problem}")
            return
        limit = self.max_subscriptions_per_connection
        if self.connection_acknowledged and limit is not None and len(self.operations) >= limit:
            error = GraphQLError(
                f"At most {limit} operations may run at once on one socket; complete one first.",
                extensions={"code": "BAD_REQUEST", "maxSubscriptions": limit},
            )
            await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
            return
        if self.connection_acknowledged:
            query = await self._document(message)
            if query is None:
                return
            message["payload"]["query"] = query
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        """Subscriptions run without strawberry's per-operation machinery (server/ws_subscription.py);
        queries and mutations sent over the socket go through it as before."""
        if not is_subscription(operation.query, operation.operation_name):
            await super().run_operation(operation)
            return
        try:
            await run_subscription(self, operation)
        except _OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    async def _document(self, message: SubscribeMessage) -> str | None:
        """The text the operation runs (trusted documents, APQ); None once refused with an error."""
        payload: dict[str, Any] = dict(message["payload"])
        operation = OperationRequest(
            query=payload.get("query"),
            variables=payload.get("variables"),
            operation_name=payload.get("operationName"),
            extensions=payload.get("extensions"),
            document_id=payload.get("documentId"),
        )
        view: Any = self.view
        try:
            resolved = await view.documents.resolve(operation, view.redis_of(self.context), view.exempt(self))
        except RequestError as exc:
            error = GraphQLError(exc.reason, extensions={"code": exc.code, **exc.extensions})
            await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
            return None
        query: str | None = resolved.operation.query
        if query is None:
            await self.handle_invalid_message("Invalid message: a subscribe payload needs a query")
            return None
        if resolved.remember:
            # Validated and normalised there, before it is stored: the operation has not run yet.
            await view.documents.remember(resolved.remember, query, view.schema._schema, self.context)
        return query
