"""Error policy: expected failures keep their message and code; anything else is masked and logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from core.errors import AppError

log = logging.getLogger("ephemera.errors")

UNEXPECTED = "Unexpected error."


def format_error(error: GraphQLError, request_id: str) -> GraphQLError:
    """The client-facing form of an error; errors that already carry a code are left as they are."""
    if (error.extensions or {}).get("code"):
        return error
    original = error.original_error
    if isinstance(original, AppError):
        extensions: dict[str, Any] = {"code": original.code, **original.extensions}
        message = original.message
    elif original is None:
        # Parse and validation errors: the client sent something the schema does not accept.
        extensions = {"code": "BAD_USER_INPUT", **(error.extensions or {})}
        message = error.message
    else:
        log.error("unexpected error in %s [request %s]", error.path, request_id, exc_info=original)
        extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        message = UNEXPECTED
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
        original_error=original,
    )


def format_in_place(errors: list[GraphQLError], execution_context: Any) -> None:
    """For errors strawberry reports outside the operation hooks (e.g. an exception in an extension)."""
    request_id = getattr(getattr(execution_context, "context", None), "request_id", "-")
    errors[:] = [format_error(error, request_id) for error in errors]


class ErrorPolicy(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            request_id = getattr(self.execution_context.context, "request_id", "-")
            result.errors = [format_error(error, request_id) for error in result.errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Subscriptions: each result sent over the socket gets the same policy."""
        errors = getattr(result, "errors", None)
        if errors:
            request_id = getattr(self.execution_context.context, "request_id", "-")
            result.errors = [format_error(error, request_id) for error in errors]
        yield
