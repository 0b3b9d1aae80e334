"""Skip re-validating query texts this schema has already validated: clients send the same few.

Validating a feed query against every rule costs several milliseconds, as much as its SQL.
Validity depends only on the text and the schema's rules (fixed when the schema is built), not on
variables, so a text that passed once passes again. Only passing texts are remembered, keyed by
the exact text, in an LRU owned by one schema and bounded in bytes of text (core/text_cache.py);
failures are validated (and reported) afresh every time, so no error object is ever shared between
requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from strawberry.extensions import SchemaExtension

from core.text_cache import TextLRU

# Texts a cache keyed by text keeps: at most this many bytes each, this many in all.
MAX_TEXT_BYTES = 64 * 1024
MAX_CACHE_BYTES = 4 * 1024 * 1024


class ValidTexts:
    def __init__(
        self, maxsize: int, max_bytes: int = MAX_CACHE_BYTES, max_entry_bytes: int = MAX_TEXT_BYTES
    ) -> None:
        self._texts: TextLRU[str, bool] = TextLRU(maxsize, max_bytes, max_entry_bytes)

    def __contains__(self, text: str) -> bool:
        return self._texts.get(text) is not None

    def add(self, text: str) -> None:
        self._texts.put(text, True, len(text.encode(errors="replace")))

    @property
    def bytes(self) -> int:
        return self._texts.bytes


class SkipKnownValid(SchemaExtension):
    def __init__(self, valid: ValidTexts) -> None:
        self.valid = valid

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        text = ctx.query
        known = text is not None and text in self.valid
        if known:
            ctx.pre_execution_errors = []  # strawberry skips its validation when this is set
        yield
        if text is not None and not known and ctx.pre_execution_errors == []:
            self.valid.add(text)


def skip_known_valid(maxsize: int = 256) -> Callable[[], SchemaExtension]:
    """An extension factory sharing one LRU: pass it once to one schema."""
    valid = ValidTexts(maxsize)
    return lambda: SkipKnownValid(valid)
