"""Saved posts and caption edits: savedPosts, savePost, editPost."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from resolvers.paging import page_args
from resolvers.posts.edits import edit_post
from resolvers.posts.saved import saved_posts_page, set_saved
from schema.node import After, First, decode_id
from schema.posts.posts import PostConnection, PostId, PostType

Ctx = Info[RequestContext, None]


@strawberry.type
class SavedPostQuery:
    @strawberry.field(
        description="Posts the viewer saved, most recently saved first. Only the viewer sees them."
    )
    async def saved_posts(
        self, info: Ctx, first: First = 20, after: After = strawberry.UNSET
    ) -> PostConnection:
        return PostConnection.of(await saved_posts_page(info.context, page_args(first, after)))


@strawberry.type
class SavedPostMutation:
    @strawberry.mutation(
        description="By its author; mentions and hashtags follow the new caption. The post keeps its place "
        "in every feed and page; `editedAt` is set. FORBIDDEN for someone else's post."
    )
    async def edit_post(
        self,
        info: Ctx,
        id: PostId,
        caption: Annotated[
            str,
            strawberry.argument(
                description="The new caption, as for createPost: at most 2,200 characters, 30 hashtags and "
                "20 mentions."
            ),
        ],
    ) -> PostType:
        return PostType.of(await edit_post(info.context, decode_id(id, "Post"), caption))

    @strawberry.mutation(
        description="Saves the post for the viewer (saved: true) or takes it out of savedPosts (false); "
        "either twice changes nothing."
    )
    async def save_post(
        self,
        info: Ctx,
        id: PostId,
        saved: Annotated[bool, strawberry.argument(description="true to save, false to unsave.")],
    ) -> PostType:
        return PostType.of(await set_saved(info.context, decode_id(id, "Post"), saved))
