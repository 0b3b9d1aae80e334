"""Skip re-validating query texts this schema has already validated: clients send the same few.

Validating a feed query against every rule costs several milliseconds, as much as its SQL.
Validity depends only on the text and the schema's rules (fixed when the schema is built), not on
variables, so a text that passed once passes again. Only passing texts are remembered, keyed by
the exact text, in a bounded LRU owned by one schema; failures are validated (and reported)
afresh every time, so no error object is ever shared between requests.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator

from strawberry.extensions import SchemaExtension


class ValidTexts:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._texts: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, text: str) -> bool:
        if text in self._texts:
            self._texts.move_to_end(text)
            return True
        return False

    def add(self, text: str) -> None:
        self._texts[text] = None
        self._texts.move_to_end(text)
        while len(self._texts) > self.maxsize:
            self._texts.popitem(last=False)


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
