"""The Relay basics: Node, PageInfo, global ids, and `node(id:)` dispatch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

import strawberry

from core.context import RequestContext
from core.errors import NotFound
from core.ids import from_global_id
from resolvers.paging import Page
from schema.planning import GlobalId, Pure, planned


@strawberry.interface(description="An object with a global ID; `node(id:)` refetches any of them.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Global ID: opaque, stable, and unique across every type; keep it as a string.",
        metadata=planned(GlobalId()),
    )


def start_cursor(page: Page[Any]) -> str | None:
    return page.items[0][0] if page.items else None


def end_cursor(page: Page[Any]) -> str | None:
    return page.items[-1][0] if page.items else None


# A connection's compiled source is its `Page`: these read one.
@strawberry.type(description="Where a page sits in its list, and the cursors to move from it.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="More items follow this page: pass `endCursor` as `after` to get them.",
        metadata=planned(Pure(lambda page, ctx: page.has_next)),
    )
    has_previous_page: bool = strawberry.field(
        description="Items come before this page. Meaningful on message history (`last`/`before`): "
        "older messages remain. Elsewhere it is true on every page fetched with `after`.",
        metadata=planned(Pure(lambda page, ctx: page.has_previous)),
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first edge; null when the page is empty. "
        "Message history takes it as `before` to page back.",
        metadata=planned(Pure(lambda page, ctx: start_cursor(page))),
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last edge; null when the page is empty. "
        "Pass it as `after` for the next page.",
        metadata=planned(Pure(lambda page, ctx: end_cursor(page))),
    )

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        return cls(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=start_cursor(page),
            end_cursor=end_cursor(page),
        )


# The paging arguments every connection field takes (the default page size is each field's own).
First = Annotated[
    int | None,
    strawberry.argument(
        description="Page size, 1 to 100 (BAD_USER_INPUT otherwise); the default when omitted."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Start after this cursor: the previous page's `pageInfo.endCursor`. Omit it for the "
        "first page; a malformed cursor is BAD_USER_INPUT."
    ),
]

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
