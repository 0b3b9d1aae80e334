"""What a document must be before anything else looks at it.

- Parsed strictly: graphql-core 3.3 accepts empty selection sets (`{}`, `{ viewer { } }`) by
  default, which the spec forbids and strawberry's depth limiter crashes on.
- Parsed through a cache whose failures strawberry reports itself: strawberry's ParserCache
  raises a syntax error from its hook, where a WebSocket operation turns it into a crash. The
  cache is one schema's, bounded in bytes of text as well as in entries (core/text_cache.py).
- With several operations, `operationName` must say which runs (GraphQL over HTTP): strawberry
  would run the first. Refused as strawberry refuses an unknown operation name, so HTTP answers
  400 and a WebSocket closes with 4400.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError

from core.text_cache import TextLRU
from schema.extensions.document_cache import MAX_CACHE_BYTES, MAX_TEXT_BYTES

ParsedTexts = TextLRU[tuple[str, tuple[tuple[str, Any], ...]], DocumentNode]


class StrictParsing(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["allow_empty_selection_sets"] = False  # type: ignore[typeddict-unknown-key]
        yield


class CachedParsing(SchemaExtension):
    def __init__(self, parsed: ParsedTexts) -> None:
        self.parsed = parsed

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        text = ctx.query
        if text is not None:
            options: dict[str, Any] = dict(ctx.parse_options)
            key = (text, tuple(sorted(options.items())))
            document = self.parsed.get(key)
            if document is None:
                try:
                    document = parse(text, **options)
                except GraphQLError:
                    document = None  # strawberry parses it again and reports the error on every transport
                else:
                    self.parsed.put(key, document, len(text.encode(errors="replace")))
            if document is not None:
                ctx.graphql_document = document
        yield


def cached_parsing(
    maxsize: int = 256, max_bytes: int = MAX_CACHE_BYTES, max_entry_bytes: int = MAX_TEXT_BYTES
) -> Callable[[], SchemaExtension]:
    """An extension factory sharing one cache: pass it once to one schema."""
    parsed: ParsedTexts = TextLRU(maxsize, max_bytes, max_entry_bytes)
    return lambda: CachedParsing(parsed)


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
