"""What a document must be before anything else looks at it.

- Parsed strictly: graphql-core 3.3 accepts empty selection sets (`{}`, `{ viewer { } }`) by
  default, which the spec forbids and strawberry's depth limiter crashes on.
- Parsed through a cache whose failures strawberry reports itself: strawberry's ParserCache
  raises a syntax error from its hook, where a WebSocket operation turns it into a crash.
- With several operations, `operationName` must say which runs (GraphQL over HTTP): strawberry
  would run the first. Refused as strawberry refuses an unknown operation name, so HTTP answers
  400 and a WebSocket closes with 4400.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError


class StrictParsing(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["allow_empty_selection_sets"] = False  # type: ignore[typeddict-unknown-key]
        yield


class CachedParsing(ParserCache):
    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        # On failure strawberry parses it again and reports the error on every transport.
        with contextlib.suppress(GraphQLError):
            ctx.graphql_document = self.cached_parse_document(ctx.query, **ctx.parse_options)
        yield


class RequireOperationName(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        # The name as the request gave it (`operation_name` falls back to the first operation's).
        if ctx.graphql_document is None or getattr(ctx, "_provided_operation_name", None) is not None:
            return
        operations = [d for d in ctx.graphql_document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1:
            raise CannotGetOperationTypeError(None)
