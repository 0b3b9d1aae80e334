"""Comments: the Comment type, its connection, and adding, deleting and turning them off."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.errors import NotFound
from core.ids import to_global_id
from models import Comment as CommentRow
from resolvers.paging import Page
from resolvers.posts import comments
from resolvers.posts.posts import PostById
from schema.accounts.users import UserType, author_of
from schema.edges import Edge
from schema.node import Node, PageInfo, decode_id
from schema.planning import Child, Column, Pure, planned
from schema.posts.posts import PostType

Ctx = Info[RequestContext, None]
PostId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The post's global ID; NOT_FOUND when the viewer may not see it."),
]


@strawberry.type(name="Comment", description="A comment on a post.")
class CommentType(Node):
    row: strawberry.Private[CommentRow]

    @classmethod
    def of(cls, row: CommentRow) -> CommentType:
        return cls(id=strawberry.ID(to_global_id("Comment", row.id)), row=row)

    @classmethod
    async def visible(cls, ctx: RequestContext, items: Sequence[CommentType]) -> list[bool]:
        return await comments.visible_comments(ctx, [item.row for item in items])

    @strawberry.field(description="The post it is on.", extensions=[Edge()])
    async def post(self, info: Ctx) -> PostType:
        post = await PostById(info.context).load(self.row.post_id)
        if post is None:
            raise NotFound("Post")
        return PostType.of(post)  # the edge shows it only when the viewer may see it

    @strawberry.field(
        description="Who wrote it.",
        extensions=[Edge()],
        metadata=planned(Child("users_on_edge", key=lambda comment: comment.author_id)),
    )
    async def author(self, info: Ctx) -> UserType:
        return await author_of(info.context, self.row.author_id)

    @strawberry.field(description="The text, 1 to 2,200 characters.", metadata=planned(Column("body")))
    def body(self) -> str:
        return self.row.body

    @strawberry.field(description="When it was added.", metadata=planned(Column("created_at")))
    def created_at(self) -> datetime:
        return self.row.created_at


@strawberry.type(description="A comment in a paged list, with the cursor of its position.")
class CommentEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this comment in the list; pass it as `after`.",
        metadata=planned(Pure(lambda item, ctx: item[0])),
    )
    node: CommentType = strawberry.field(
        description="The comment at this position.", metadata=planned(Pure(lambda item, ctx: item[1]))
    )


@strawberry.type(description="One page of comments.")
class CommentConnection:
    edges: list[CommentEdge] = strawberry.field(
        description="The page's comments, oldest first.", metadata=planned(Pure(lambda page, ctx: page.items))
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more comments follow, and the cursor to get them.",
        metadata=planned(Pure(lambda page, ctx: page)),
    )

    @classmethod
    def of(cls, page: Page[CommentRow]) -> CommentConnection:
        edges = [CommentEdge(cursor=cursor, node=CommentType.of(row)) for cursor, row in page.items]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.type
class CommentMutation:
    @strawberry.mutation(
        description="Adds a comment as the viewer; idempotent on the author's clientId. CONFLICT when the "
        "author turned comments off, or the clientId was used on another post."
    )
    async def add_comment(
        self,
        info: Ctx,
        post_id: PostId,
        body: Annotated[str, strawberry.argument(description="The text, 1 to 2,200 characters.")],
        client_id: Annotated[
            str,
            strawberry.argument(
                description="A key you generate (a UUID; 1 to 64 characters, no spaces): adding again with "
                "it returns the first comment and creates nothing."
            ),
        ],
    ) -> CommentType:
        row = await comments.add_comment(info.context, decode_id(post_id, "Post"), body, client_id)
        return CommentType.of(row)

    @strawberry.mutation(
        description="Deletes a comment; by the comment's author or the post's author (FORBIDDEN for anyone "
        "else). Returns its ID."
    )
    async def delete_comment(
        self,
        info: Ctx,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The comment's global ID; NOT_FOUND when the viewer may not see it."
            ),
        ],
    ) -> strawberry.ID:
        await comments.delete_comment(info.context, decode_id(id, "Comment"))
        return id

    @strawberry.mutation(
        description="Turns comments on the viewer's post off or back on; comments already there stay. "
        "FORBIDDEN for someone else's post."
    )
    async def set_comments_disabled(
        self,
        info: Ctx,
        post_id: PostId,
        disabled: Annotated[bool, strawberry.argument(description="True turns comments off, false back on.")],
    ) -> PostType:
        row = await comments.set_comments_disabled(info.context, decode_id(post_id, "Post"), disabled)
        return PostType.of(row)


async def comment_node(ctx: RequestContext, comment_id: int) -> CommentType | None:
    row = await comments.visible_comment(ctx, comment_id)
    return CommentType.of(row) if row else None
