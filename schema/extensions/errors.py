"""Error policy: expected failures keep their message and code; anything else is masked and logged.

Parse, validation and variable-coercion errors are the client's: `BAD_USER_INPUT`, with the
message (in production without schema hints, see schema/extensions/hints.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from core.errors import AppError
from schema.extensions.hints import request_names, without_schema_hints

log = logging.getLogger("ephemera.errors")

UNEXPECTED = "Unexpected error."


def is_input_error(error: GraphQLError) -> bool:
    """The request did not fit the schema: it did not parse, validate, or its variables did not
    coerce (graphql-core wraps the scalar's own GraphQLError). Nothing of it ran."""
    original = error.original_error
    return original is None or (isinstance(original, GraphQLError) and error.path is None)


def format_error(
    error: GraphQLError, request_id: str, hide_schema: bool = False, execution_context: Any = None
) -> GraphQLError:
    """The client-facing form of an error; errors that already carry a code are left as they are."""
    if (error.extensions or {}).get("code"):
        return error
    original = error.original_error
    if isinstance(original, AppError):
        extensions: dict[str, Any] = {"code": original.code, **original.extensions}
        message = original.message
    elif is_input_error(error):
        extensions = {"code": "BAD_USER_INPUT", **(error.extensions or {})}
        message = error.message
        if hide_schema and not isinstance(error, GraphQLSyntaxError):
            document = getattr(execution_context, "graphql_document", None)
            variables = getattr(execution_context, "variables", None)
            message = without_schema_hints(message, request_names(document, variables))
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


def format_in_place(errors: list[GraphQLError], execution_context: Any, hide_schema: bool = False) -> None:
    """For errors strawberry reports outside the operation hooks (e.g. an exception in an extension)."""
    request_id = getattr(getattr(execution_context, "context", None), "request_id", "-")
    errors[:] = [format_error(error, request_id, hide_schema, execution_context) for error in errors]


class ErrorPolicy(SchemaExtension):
    def __init__(self, hide_schema: bool = False) -> None:
        self.hide_schema = hide_schema

    def _format(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        ctx = self.execution_context
        request_id = getattr(ctx.context, "request_id", "-")
        return [format_error(error, request_id, self.hide_schema, ctx) for error in errors]

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = self._format(result.errors)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Subscriptions: each result sent over the socket gets the same policy."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._format(errors)
        yield
