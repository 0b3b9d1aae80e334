"""Keyset pagination: opaque cursors over time-ordered ids, and the page shape connections share."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.errors import BadInput

T = TypeVar("T")
MAX_PAGE = 100
MAX_KEY = 2**63 - 1
RANKED_PREFIX = "ranked."  # the ranked feed's cursors (resolvers/feed/ranked.py)


@dataclass(frozen=True)
class PageArgs:
    first: int
    after: int | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[tuple[str, T]]  # (cursor, item)
    has_next: bool
    has_previous: bool = False


def encode_cursor(key: int | str) -> str:
    return base64.urlsafe_b64encode(f"k:{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadInput("Malformed cursor.", field="after") from None
    if not raw.startswith("k:") or len(raw) > 200:
        raise BadInput("Malformed cursor.", field="after")
    return raw[2:]


def check_size(value: int | None, name: str, default: int | None = None) -> int:
    if value is None:
        if default is None:
            raise BadInput(f"`{name}` is required.", field=name)
        return default
    if not 1 <= value <= MAX_PAGE:
        raise BadInput(f"`{name}` must be between 1 and {MAX_PAGE}.", field=name)
    return value


def page_args(first: int | None, after: str | None, default: int = 20) -> PageArgs:
    """`first: null` means the field's default page size, as leaving it out does."""
    size = check_size(first, "first", default=default)
    if not after:  # None, or UNSET when the client left it out
        return PageArgs(size)
    key = decode_cursor(after)
    if key.startswith(RANKED_PREFIX):
        raise BadInput(
            "This cursor is from feed(order: RANKED): pass it with order: RANKED, or leave `after` out "
            "for a first page.",
            field="after",
        )
    # Keys are 64-bit ids: a larger number would overflow the database's integer.
    if not key.isdigit() or int(key) > MAX_KEY:
        raise BadInput("Malformed cursor.", field="after")
    return PageArgs(size, int(key))


def page_from_rows(rows: list[tuple[int, T]], args: PageArgs) -> Page[T]:
    """Rows are (key, item), fetched with LIMIT first + 1 so the extra row tells about a next page."""
    return Page(
        items=[(encode_cursor(key), item) for key, item in rows[: args.first]],
        has_next=len(rows) > args.first,
        has_previous=args.after is not None,
    )
