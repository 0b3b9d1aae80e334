"""Hashtag pages."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.ids import to_global_id
from models import Hashtag as HashtagRow
from resolvers.discovery.hashtags import find_hashtag, hashtag_by_id, hashtag_posts
from resolvers.paging import page_args
from schema.edges import Edge
from schema.node import After, First, Node
from schema.posts.posts import PostConnection

Ctx = Info[RequestContext, None]


@strawberry.type(name="Hashtag", description="A #hashtag and the posts that carry it.")
class HashtagType(Node):
    row: strawberry.Private[HashtagRow]

    @classmethod
    def of(cls, row: HashtagRow) -> HashtagType:
        return cls(id=strawberry.ID(to_global_id("Hashtag", row.id)), row=row)

    @strawberry.field(description="Lower-case, without the #.")
    def name(self) -> str:
        return self.row.name

    @strawberry.field(
        description="Posts carrying it that the viewer may see, newest first.", extensions=[Edge()]
    )
    async def posts(self, info: Ctx, first: First = 20, after: After = strawberry.UNSET) -> PostConnection:
        return PostConnection.of(await hashtag_posts(info.context, self.row.id, page_args(first, after)))


@strawberry.type
class HashtagQuery:
    @strawberry.field(description="A hashtag's page; null when no post the viewer may see carries it.")
    async def hashtag(
        self,
        info: Ctx,
        name: Annotated[
            str, strawberry.argument(description="The tag in any case, with or without the leading #.")
        ],
    ) -> HashtagType | None:
        row = await find_hashtag(info.context, name)
        return HashtagType.of(row) if row else None


async def hashtag_node(ctx: RequestContext, hashtag_id: int) -> HashtagType | None:
    row = await hashtag_by_id(ctx, hashtag_id)
    return HashtagType.of(row) if row else None
