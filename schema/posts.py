"""Posts, the home feed, and the post mutations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.ids import to_global_id
from models import Post as PostRow
from resolvers import posts
from resolvers.comments import comments_page, visible_comment_count
from resolvers.feed import feed_page
from resolvers.paging import Page, PageArgs, check_size, page_args
from resolvers.ranked_feed import ranked_page
from schema.feed_order import FeedOrder
from schema.media import MediaType
from schema.node import Node, PageInfo, decode_id
from schema.users import UserType, author_of

if TYPE_CHECKING:
    from schema.comments import CommentConnection

Ctx = Info[RequestContext, None]


@strawberry.type(name="Post")
class PostType(Node):
    row: strawberry.Private[PostRow]

    @classmethod
    def of(cls, row: PostRow) -> PostType:
        return cls(id=strawberry.ID(to_global_id("Post", row.id)), row=row)

    @strawberry.field
    async def author(self, info: Ctx) -> UserType:
        return await author_of(info.context, self.row.author_id)

    @strawberry.field
    def caption(self) -> str:
        return self.row.caption

    @strawberry.field
    async def media(self, info: Ctx) -> list[MediaType]:
        return [MediaType.of(row) for row in await posts.PostMediaRows(info.context).load(self.row.id)]

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def like_count(self) -> int:
        return self.row.like_count

    @strawberry.field
    async def viewer_has_liked(self, info: Ctx) -> bool:
        return await posts.ViewerLiked(info.context).load(self.row.id)

    @strawberry.field(description="Comments the viewer may see.")
    async def comment_count(self, info: Ctx) -> int:
        return await visible_comment_count(info.context, self.row)

    @strawberry.field(description="Oldest first.")
    async def comments(
        self, info: Ctx, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> Annotated[CommentConnection, strawberry.lazy("schema.comments")]:
        from schema.comments import CommentConnection  # schema.comments imports this module

        page = await comments_page(info.context, self.row, page_args(first, after))
        return CommentConnection.of(page)

    @strawberry.field
    def comments_disabled(self) -> bool:
        return self.row.comments_disabled


@strawberry.type
class PostEdge:
    cursor: str
    node: PostType


@strawberry.type
class PostConnection:
    edges: list[PostEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[PostRow]) -> PostConnection:
        edges = [PostEdge(cursor=cursor, node=PostType.of(row)) for cursor, row in page.items]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.input
class CreatePostInput:
    caption: str | None = ""
    media_ids: list[strawberry.ID]


@strawberry.type
class PostQuery:
    @strawberry.field(
        description="Posts of the accounts the viewer follows (accepted follows) and the viewer's own. "
        "RECENT: newest first. RANKED: best first by the documented score. Pages are stable in both "
        "orders: nothing that happens after the first page makes later pages repeat or skip an item."
    )
    async def feed(
        self,
        info: Ctx,
        first: int | None = 20,
        after: str | None = strawberry.UNSET,
        order: FeedOrder | None = FeedOrder.RECENT,
    ) -> PostConnection:
        if order is FeedOrder.RANKED:
            args = PageArgs(check_size(first, "first", default=20))
            return PostConnection.of(await ranked_page(info.context, args, after or None))
        return PostConnection.of(await feed_page(info.context, page_args(first, after)))


def _post_id(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Post")


@strawberry.type
class PostMutation:
    @strawberry.mutation
    async def create_post(self, info: Ctx, input: CreatePostInput) -> PostType:
        media_ids = [decode_id(media_id, "Media") for media_id in input.media_ids]
        return PostType.of(await posts.create_post(info.context, input.caption, media_ids))

    @strawberry.mutation
    async def delete_post(self, info: Ctx, id: strawberry.ID) -> strawberry.ID:
        await posts.delete_post(info.context, _post_id(id))
        return id

    @strawberry.mutation
    async def like_post(self, info: Ctx, id: strawberry.ID) -> PostType:
        return PostType.of(await posts.set_liked(info.context, _post_id(id), True))

    @strawberry.mutation
    async def unlike_post(self, info: Ctx, id: strawberry.ID) -> PostType:
        return PostType.of(await posts.set_liked(info.context, _post_id(id), False))


async def post_node(ctx: RequestContext, post_id: int) -> PostType | None:
    row = await posts.visible_post(ctx, post_id)
    return PostType.of(row) if row else None
