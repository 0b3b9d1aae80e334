"""Reading a GraphQL request over HTTP: the JSON body (or the GET parameters), checked shape by
shape, so that anything malformed is refused with a coded 4xx answer and never reaches a 500."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type

# Deeper than any input of the schema needs, shallow enough for every recursive walk after it.
MAX_JSON_DEPTH = 32
BAD_REQUEST = "BAD_REQUEST"


class RequestError(HTTPException):
    """The request cannot be read as GraphQL: answered as a GraphQL error with `extensions.code`."""

    def __init__(
        self,
        status_code: int,
        message: str,
        code: str = BAD_REQUEST,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status_code, message)
        self.code = code
        self.headers = dict(headers or {})
        self.extensions = extensions


class UnreadableJSON(ValueError):
    pass


@dataclass
class OperationRequest(GraphQLRequestData):
    """One operation as sent; `document_id` names a trusted document instead of sending its text."""

    document_id: str | None = None


def _too_deep(value: object, max_depth: int) -> bool:
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def load_json(data: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> object:
    """JSON from a body or a WebSocket message; UnreadableJSON for anything no client means."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise UnreadableJSON("The body is not valid UTF-8.") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise UnreadableJSON(f"The JSON is nested deeper than {max_depth} levels.") from None
    except ValueError:  # JSONDecodeError, and numbers too long to convert
        raise UnreadableJSON("The body is not valid JSON.") from None
    if _too_deep(value, max_depth):
        raise UnreadableJSON(f"The JSON is nested deeper than {max_depth} levels.")
    return value


def _load(data: str | bytes) -> object:
    try:
        return load_json(data)
    except UnreadableJSON as exc:
        raise RequestError(400, str(exc)) from None


_FIELDS: dict[str, type] = {
    "query": str,
    "variables": dict,
    "operationName": str,
    "extensions": dict,
    "documentId": str,
}


def _operation(item: object, where: str) -> OperationRequest:
    if not isinstance(item, dict):
        raise RequestError(400, f"{where} must be a JSON object with a `query`.")
    for name, kind in _FIELDS.items():
        value = item.get(name)
        if value is not None and not isinstance(value, kind):
            what = "a string" if kind is str else "an object"
            raise RequestError(400, f"`{name}` must be {what} or null.")
    return OperationRequest(
        query=item.get("query"),
        variables=item.get("variables"),
        operation_name=item.get("operationName"),
        extensions=item.get("extensions"),
        document_id=item.get("documentId"),
    )


def _get_params(params: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = dict(params)
    for name in ("variables", "extensions"):
        if name in data:
            data[name] = _load(data[name]) if data[name] else None
    return data


async def read_request(
    request: AsyncHTTPRequestAdapter, max_operations: int
) -> OperationRequest | list[OperationRequest]:
    """The operation (or the batch of them) a request carries."""
    if request.method == "GET":
        return _operation(_get_params(request.query_params), "The request")
    media_type, _ = parse_content_type(request.content_type or "")
    if media_type != "application/json":
        raise RequestError(415, "Send GraphQL requests as JSON (Content-Type: application/json).")
    data = _load(await request.get_body())
    if not isinstance(data, list):
        return _operation(data, "The body")
    if not data:
        raise RequestError(400, "The batch is empty: send at least one operation.")
    if len(data) > max_operations:
        raise RequestError(
            400,
            f"A batch may hold at most {max_operations} operations; this one has {len(data)}.",
            maxOperations=max_operations,
        )
    return [_operation(item, f"Operation {index} of the batch") for index, item in enumerate(data)]
