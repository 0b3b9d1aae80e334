"""The Relay basics: Node, PageInfo, global ids, and `node(id:)` dispatch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import strawberry

from core.context import RequestContext
from core.errors import NotFound
from core.ids import from_global_id
from resolvers.paging import Page


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        cursors = [cursor for cursor, _ in page.items]
        return cls(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


# How `node(id:)` reaches each type: its visible object by database id, or None.
NodeResolver = Callable[[RequestContext, int], Awaitable[Node | None]]


def decode_id(global_id: strawberry.ID | str, type_name: str, what: str | None = None) -> int:
    """The database id inside a global id of `type_name`; anything else is NOT_FOUND."""
    parsed = from_global_id(str(global_id))
    if parsed is None or parsed[0] != type_name:
        raise NotFound(what or type_name)
    return parsed[1]


async def resolve_node(
    ctx: RequestContext, global_id: str, resolvers: Mapping[str, NodeResolver]
) -> Node | None:
    """The visible object behind a global id; None for an unknown type, a malformed id or a miss."""
    parsed = from_global_id(global_id)
    resolver = resolvers.get(parsed[0]) if parsed is not None else None
    return None if resolver is None or parsed is None else await resolver(ctx, parsed[1])
