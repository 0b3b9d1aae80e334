"""Finding accounts: searchUsers and suggestedUsers."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from resolvers.discovery.search import search_users
from resolvers.discovery.suggestions import suggested_users
from schema.accounts.users import UserConnection, UserEdge, UserType
from schema.node import After, First, PageInfo

Ctx = Info[RequestContext, None]


@strawberry.type
class SearchQuery:
    @strawberry.field(
        description="Accounts whose username or display name matches the query (prefix and fuzzy), best "
        "first: accounts the viewer follows or is close to, then by relationship and popularity. Never an "
        "account that blocked the viewer or that the viewer blocked."
    )
    async def search_users(
        self,
        info: Ctx,
        query: Annotated[
            str,
            strawberry.argument(
                description="What the viewer typed: the start of a username or of a word of a display name, "
                "or a near miss of either; a leading '@' is ignored; at most 64 characters."
            ),
        ],
        first: First = 20,
        after: After = strawberry.UNSET,
    ) -> UserConnection:
        page = await search_users(info.context, query, first, after or None)
        edges = [UserEdge(cursor=cursor, node=UserType.of(user)) for cursor, user in page.items]
        return UserConnection(edges=edges, page_info=PageInfo.of(page))

    @strawberry.field(
        description="Accounts the viewer may want to follow (followed by accounts the viewer follows), best "
        "first; never one the viewer follows, requested, blocked, or was blocked by."
    )
    async def suggested_users(
        self,
        info: Ctx,
        first: Annotated[
            int | None, strawberry.argument(description="How many, 1 to 100; 20 when left out.")
        ] = 20,
    ) -> list[UserType]:
        return [UserType.of(user) for user in await suggested_users(info.context, first)]
