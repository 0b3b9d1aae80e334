"""Posts, the home feed, and the post mutations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.ids import to_global_id
from models import Post as PostRow
from resolvers.discovery.caption_text import MAX_HASHTAGS, MAX_MENTIONS, hashtags_in
from resolvers.discovery.mentions import visible_mentions
from resolvers.feed.pages import feed_page
from resolvers.feed.ranked import ranked_page
from resolvers.paging import Page, PageArgs, check_size, page_args
from resolvers.posts import posts
from resolvers.posts.comments import comments_page, visible_comment_count
from resolvers.posts.saved import ViewerSaved
from schema.accounts.users import UserType, author_of
from schema.edges import Edge
from schema.extensions.query_limits import at_most
from schema.feed.order import FeedOrder
from schema.media.media import MediaType
from schema.node import After, First, Node, PageInfo, decode_id
from schema.planning import Child, Column, Pure, Root, itself, planned

if TYPE_CHECKING:
    from schema.posts.comments import CommentConnection

Ctx = Info[RequestContext, None]


@strawberry.type(
    name="Post",
    description="A post: 1 to 10 photos or videos with a caption, in the feeds of the author's followers.",
)
class PostType(Node):
    row: strawberry.Private[PostRow]

    @classmethod
    def of(cls, row: PostRow) -> PostType:
        return cls(id=strawberry.ID(to_global_id("Post", row.id)), row=row)

    @classmethod
    async def visible(cls, ctx: RequestContext, items: Sequence[PostType]) -> list[bool]:
        return await posts.visible_posts(ctx, [item.row for item in items])

    @strawberry.field(
        description="Who posted it.",
        extensions=[Edge()],
        metadata=planned(Child("users_on_edge", key=lambda post: post.author_id)),
    )
    async def author(self, info: Ctx) -> UserType:
        return await author_of(info.context, self.row.author_id)

    @strawberry.field(
        description="The text under the media, at most 2,200 characters; empty when none.",
        metadata=planned(Column("caption")),
    )
    def caption(self) -> str:
        return self.row.caption

    @strawberry.field(
        description="The photos and videos, 1 to 10, in the order the author gave them.",
        metadata=at_most(posts.MAX_MEDIA) | planned(Child("post_media")),
    )
    async def media(self, info: Ctx) -> list[MediaType]:
        return [MediaType.of(row) for row in await posts.PostMediaRows(info.context).load(self.row.id)]

    @strawberry.field(description="When it was posted.", metadata=planned(Column("created_at")))
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="How many users like it.", metadata=planned(Column("like_count")))
    def like_count(self) -> int:
        return self.row.like_count

    @strawberry.field(
        description="The viewer likes it; false when signed out.", metadata=planned(Child("viewer_liked"))
    )
    async def viewer_has_liked(self, info: Ctx) -> bool:
        return await posts.ViewerLiked(info.context).load(self.row.id)

    @strawberry.field(
        description="How many comments the viewer may see: exactly what `comments` lists.",
        metadata=planned(Child("comment_count", key=itself)),
    )
    async def comment_count(self, info: Ctx) -> int:
        return await visible_comment_count(info.context, self.row)

    @strawberry.field(
        description="Comments the viewer may see, oldest first (none from users in a blocked pair with "
        "them).",
        extensions=[Edge()],
        metadata=planned(Child("post_comments", key=itself)),
    )
    async def comments(
        self, info: Ctx, first: First = 20, after: After = strawberry.UNSET
    ) -> Annotated[CommentConnection, strawberry.lazy("schema.posts.comments")]:
        from schema.posts.comments import CommentConnection  # schema.posts.comments imports this module

        page = await comments_page(info.context, self.row, page_args(first, after))
        return CommentConnection.of(page)

    @strawberry.field(
        description="The author turned comments off: addComment answers CONFLICT; existing comments stay.",
        metadata=planned(Column("comments_disabled")),
    )
    def comments_disabled(self) -> bool:
        return self.row.comments_disabled

    @strawberry.field(
        description="When the caption was last edited; null if never.", metadata=planned(Column("edited_at"))
    )
    def edited_at(self) -> datetime | None:
        return self.row.edited_at

    @strawberry.field(
        description="Accounts mentioned in the caption (@username) that the viewer may see.",
        metadata=at_most(MAX_MENTIONS),
        extensions=[Edge(UserType.interacting)],
    )
    async def mentions(self, info: Ctx) -> list[UserType]:
        return [UserType.of(user) for user in await visible_mentions(info.context, self.row)]

    @strawberry.field(
        description="Hashtags in the caption, lower-case, without the #, in order of first use.",
        metadata=at_most(MAX_HASHTAGS) | planned(Pure(lambda post, ctx: hashtags_in(post.caption))),
    )
    def hashtags(self) -> list[str]:
        return hashtags_in(self.row.caption)

    @strawberry.field(description="Saved by the viewer.", metadata=planned(Child("viewer_saved")))
    async def viewer_has_saved(self, info: Ctx) -> bool:
        return await ViewerSaved(info.context).load(self.row.id)


@strawberry.type(description="A post in a paged list, with the cursor of its position.")
class PostEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this post in the list; pass it as `after`.",
        metadata=planned(Pure(lambda item, ctx: item[0])),
    )
    node: PostType = strawberry.field(
        description="The post at this position.", metadata=planned(Pure(lambda item, ctx: item[1]))
    )


@strawberry.type(description="One page of posts.")
class PostConnection:
    edges: list[PostEdge] = strawberry.field(
        description="The page's posts, in the list's order.",
        metadata=planned(Pure(lambda page, ctx: page.items)),
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more posts follow, and the cursor to get them.",
        metadata=planned(Pure(lambda page, ctx: page)),
    )

    @classmethod
    def of(cls, page: Page[PostRow]) -> PostConnection:
        edges = [PostEdge(cursor=cursor, node=PostType.of(row)) for cursor, row in page.items]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.input(description="A new post.")
class CreatePostInput:
    caption: str | None = strawberry.field(
        default="",
        description="At most 2,200 characters; newlines and tabs are kept, other control characters refused.",
    )
    media_ids: list[strawberry.ID] = strawberry.field(
        description="1 to 10 uploads of purpose POST, in display order, each in no other post; checked now."
    )


@strawberry.type
class PostQuery:
    @strawberry.field(
        description="Posts of the accounts the viewer follows (accepted follows) and the viewer's own. "
        "RECENT: newest first. RANKED: best first by the documented score. Pages are stable in both "
        "orders: nothing that happens after the first page makes later pages repeat or skip an item.",
        metadata=planned(Root("feed")),
    )
    async def feed(
        self,
        info: Ctx,
        first: First = 20,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The previous page's `pageInfo.endCursor`; omit it for the first page. A RANKED "
                "cursor lasts 30 minutes, then answers BAD_USER_INPUT with reason SNAPSHOT_EXPIRED."
            ),
        ] = strawberry.UNSET,
        order: Annotated[
            FeedOrder | None,
            strawberry.argument(description="RECENT or RANKED; pass the same order with every page."),
        ] = FeedOrder.RECENT,
    ) -> PostConnection:
        if order is FeedOrder.RANKED:
            args = PageArgs(check_size(first, "first", default=20))
            return PostConnection.of(await ranked_page(info.context, args, after or None))
        return PostConnection.of(await feed_page(info.context, page_args(first, after)))


def _post_id(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Post")


PostId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The post's global ID; NOT_FOUND when the viewer may not see it."),
]


@strawberry.type
class PostMutation:
    @strawberry.mutation(
        description="Publishes a post from the viewer's uploads. BAD_USER_INPUT for 0 or over 10 media, "
        "media of another purpose or already posted, or an upload that fails its check (it ends FAILED)."
    )
    async def create_post(
        self,
        info: Ctx,
        input: Annotated[CreatePostInput, strawberry.argument(description="The caption and the media.")],
    ) -> PostType:
        media_ids = [decode_id(media_id, "Media") for media_id in input.media_ids]
        return PostType.of(await posts.create_post(info.context, input.caption, media_ids))

    @strawberry.mutation(
        description="Deletes the viewer's post with its likes, comments and media; returns its ID. "
        "FORBIDDEN for someone else's post."
    )
    async def delete_post(self, info: Ctx, id: PostId) -> strawberry.ID:
        await posts.delete_post(info.context, _post_id(id))
        return id

    @strawberry.mutation(description="Likes the post as the viewer; liking twice counts once.")
    async def like_post(self, info: Ctx, id: PostId) -> PostType:
        return PostType.of(await posts.set_liked(info.context, _post_id(id), True))

    @strawberry.mutation(description="Takes the viewer's like back; nothing changes when there was none.")
    async def unlike_post(self, info: Ctx, id: PostId) -> PostType:
        return PostType.of(await posts.set_liked(info.context, _post_id(id), False))


async def post_node(ctx: RequestContext, post_id: int) -> PostType | None:
    row = await posts.visible_post(ctx, post_id)
    return PostType.of(row) if row else None
