"""Comments: the Comment type, its connection, and adding, deleting and turning them off."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.errors import NotFound
from core.ids import to_global_id
from models import Comment as CommentRow
from resolvers import comments
from resolvers.paging import Page
from resolvers.posts import PostById
from schema.node import Node, PageInfo, decode_id
from schema.posts import PostType
from schema.users import UserType, author_of

Ctx = Info[RequestContext, None]


@strawberry.type(name="Comment")
class CommentType(Node):
    row: strawberry.Private[CommentRow]

    @classmethod
    def of(cls, row: CommentRow) -> CommentType:
        return cls(id=strawberry.ID(to_global_id("Comment", row.id)), row=row)

    @strawberry.field
    async def post(self, info: Ctx) -> PostType:
        post = await PostById(info.context).load(self.row.post_id)
        if post is None:
            raise NotFound("Post")
        return PostType.of(post)

    @strawberry.field
    async def author(self, info: Ctx) -> UserType:
        return await author_of(info.context, self.row.author_id)

    @strawberry.field
    def body(self) -> str:
        return self.row.body

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at


@strawberry.type
class CommentEdge:
    cursor: str
    node: CommentType


@strawberry.type
class CommentConnection:
    edges: list[CommentEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[CommentRow]) -> CommentConnection:
        edges = [CommentEdge(cursor=cursor, node=CommentType.of(row)) for cursor, row in page.items]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.type
class CommentMutation:
    @strawberry.mutation(description="Idempotent on the author's clientId.")
    async def add_comment(self, info: Ctx, post_id: strawberry.ID, body: str, client_id: str) -> CommentType:
        row = await comments.add_comment(info.context, decode_id(post_id, "Post"), body, client_id)
        return CommentType.of(row)

    @strawberry.mutation(description="By the comment's author or the post's author.")
    async def delete_comment(self, info: Ctx, id: strawberry.ID) -> strawberry.ID:
        await comments.delete_comment(info.context, decode_id(id, "Comment"))
        return id

    @strawberry.mutation
    async def set_comments_disabled(self, info: Ctx, post_id: strawberry.ID, disabled: bool) -> PostType:
        row = await comments.set_comments_disabled(info.context, decode_id(post_id, "Post"), disabled)
        return PostType.of(row)


async def comment_node(ctx: RequestContext, comment_id: int) -> CommentType | None:
    row = await comments.visible_comment(ctx, comment_id)
    return CommentType.of(row) if row else None
