"""Comments on posts: adding (idempotent on clientId), deleting, turning them off, and reading them.

Whoever may see a post may read and add its comments; anyone else gets NOT_FOUND. Comments by a
user in a blocked pair with the viewer are never shown to the viewer, and the count they see
(`visible_comment_count`) leaves out exactly those, so it agrees with the list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, delete, func, select, update

from core.context import RequestContext
from core.errors import BadInput, Conflict, Forbidden, NotFound
from core.unit_of_work import UnitOfWork
from models import Comment, Post
from resolvers.accounts.users import relationship, relationships
from resolvers.activity import recording as activity
from resolvers.conversations.messages import clean_client_id
from resolvers.discovery import caption_text
from resolvers.discovery.mentions import comment_mentions
from resolvers.loader import RequestLoader, unique
from resolvers.paging import Page, PageArgs
from resolvers.parent_pages import PageKey, ParentPages
from resolvers.posts.posts import PostById, visible_post, visible_post_locked, visible_posts
from resolvers.text import clean_text
from resolvers.visibility import can_interact
from resolvers.visibility_sql import blocked_with, interacts

MAX_COMMENT = 2200


class CommentById(RequestLoader[int, Comment | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Comment | None]:
        async with self.ctx.read() as session:
            rows = await session.scalars(select(Comment).where(Comment.id.in_(unique(keys))))
            return {row.id: row for row in rows}

    def default(self, key: int) -> Comment | None:
        return None


def hidden_from(viewer: Any) -> ColumnElement[bool]:
    """A comment the viewer never sees: its author is in a blocked pair with them."""
    return Comment.author_id.in_(blocked_with(viewer))


def hidden_comments(viewer: Any, post_id: Any) -> ScalarSelect[int]:
    """How many of a post's comments (`post_id`: an id or an outer statement's column) are
    hidden from the viewer, as one correlated count (`HiddenCommentCount`'s rule)."""
    return select(func.count()).where(Comment.post_id == post_id, hidden_from(viewer)).scalar_subquery()


class HiddenCommentCount(RequestLoader[int, int]):
    """Per post, its comments by users in a blocked pair with the viewer (few: a viewer blocks few)."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, int]:
        viewer = self.ctx.viewer_id
        if viewer is None:
            return {}
        stmt = (
            select(Comment.post_id, func.count())
            .where(Comment.post_id.in_(unique(keys)), hidden_from(viewer))
            .group_by(Comment.post_id)
        )
        async with self.ctx.read() as session:
            return {post_id: count for post_id, count in (await session.execute(stmt)).all()}

    def default(self, key: int) -> int:
        return 0


def comments_of(viewer: Any, parents: list[Any]) -> Select[*tuple[Any, ...]]:
    """The comments of those posts (ids or bound parameters) the viewer may read: none across a block."""
    return select(Comment).where(Comment.post_id.in_(parents), interacts(viewer, Comment.author_id))


class CommentsPage(ParentPages[Comment]):
    """Oldest first, without comments across a block; several posts' pages in one statement per
    page shape (a feed page showing two comments under each post)."""

    key = Comment.id
    parent = Comment.post_id
    oldest_first = True
    entity = Comment

    def candidates(self, parents: list[Any]) -> Select[*tuple[Any, ...]]:
        return comments_of(self.ctx.viewer_id, parents)

    def received(self, item: Comment) -> None:
        CommentById(self.ctx).prime(item.id, item)


async def comments_page(ctx: RequestContext, post: Post, args: PageArgs) -> Page[Comment]:
    """A page of the comments of a post the viewer already may see."""
    page = await CommentsPage(ctx).load(PageKey(post.id, args.first, args.after))
    # The post's author in the same batch as the commenters: the page's edge checks ask for both,
    # and one batch for every post of a feed page keeps its statements the same at any size.
    rels = await relationships(ctx, [post.author_id, *(comment.author_id for _, comment in page.items)])
    items = [item for item, rel in zip(page.items, rels[1:], strict=True) if can_interact(rel)]
    return Page(items, page.has_next, page.has_previous)


async def visible_comment_count(ctx: RequestContext, post: Post) -> int:
    return max(0, post.comment_count - await HiddenCommentCount(ctx).load(post.id))


async def visible_comments(ctx: RequestContext, rows: Sequence[Comment]) -> list[bool]:
    """Which of `rows` the viewer may see: on a post they may see, by someone not in a blocked pair
    with them."""
    posts = [post for post in await PostById(ctx).load_many([row.post_id for row in rows]) if post]
    shown = {post.id for post, ok in zip(posts, await visible_posts(ctx, posts), strict=True) if ok}
    rels = await relationships(ctx, [row.author_id for row in rows])
    return [row.post_id in shown and can_interact(rel) for row, rel in zip(rows, rels, strict=True)]


async def visible_comment(ctx: RequestContext, comment_id: int) -> Comment | None:
    comment = await CommentById(ctx).load(comment_id)
    return comment if comment is not None and (await visible_comments(ctx, [comment]))[0] else None


def clean_comment(body: str) -> str:
    text = clean_text(body, field="body", max_length=MAX_COMMENT)
    if not text:
        raise BadInput("A comment needs some text.", field="body")
    return text


async def add_comment(ctx: RequestContext, post_id: int, body: str, client_id: str) -> Comment:
    """As the viewer, on a post they may see. A retry with the same clientId returns the first comment,
    once the post passes the same rule as for a first add: after a block or an unfollowed private
    account it is NOT_FOUND, so a retry never answers with a post the viewer may no longer see."""
    viewer = ctx.require_viewer()
    client_id = clean_client_id(client_id)
    text = clean_comment(body)
    usernames = caption_text.parse(text, field="body").usernames
    services = ctx.services
    async with ctx.write() as work:
        earlier = await _earlier_comment(work, viewer, client_id)
        post = await visible_post_locked(ctx, work, post_id)
        if earlier is not None:
            if earlier.post_id != post_id:
                raise Conflict("This clientId was already used for another comment.", field="clientId")
            return earlier
        # Guarded: a concurrent setCommentsDisabled or deletePost either commits first (this
        # matches nothing) or waits for this transaction.
        counted = await work.session.scalar(
            update(Post)
            .where(Post.id == post_id, Post.comments_disabled.is_(False))
            .values(comment_count=Post.comment_count + 1)
            .returning(Post.comment_count)
        )
        if counted is None:
            if await work.session.scalar(select(Post.comments_disabled).where(Post.id == post_id)):
                raise Conflict("The author turned comments off for this post.", field="postId")
            raise NotFound("Post")
        comment = Comment(
            id=services.ids.next_id(),
            post_id=post_id,
            author_id=viewer,
            client_id=client_id,
            body=text,
            created_at=services.clock.now(),
        )
        work.session.add(comment)
        await work.session.flush()
        await activity.record(
            work,
            post.author_id,
            activity.ActivityKind.POST_COMMENTED,
            viewer,
            post_id=post_id,
            comment_id=comment.id,
        )
        await comment_mentions(work, post, viewer, comment.id, usernames)
    return comment


async def _earlier_comment(work: UnitOfWork, viewer: int, client_id: str) -> Comment | None:
    """The viewer's comment already added with this clientId. Adds with one clientId queue on a lock
    until commit, so a racing retry sees the first one instead of inserting a second."""
    await work.lock("comment-client-id", viewer, client_id)
    found: Comment | None = await work.session.scalar(
        select(Comment).where(Comment.author_id == viewer, Comment.client_id == client_id)
    )
    return found


async def delete_comment(ctx: RequestContext, comment_id: int) -> int:
    """By the comment's author, or the post's author (who may also remove a comment hidden from them
    by a block)."""
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        comment = await CommentById(ctx).load(comment_id)
        post = await visible_post(ctx, comment.post_id) if comment is not None else None
        if comment is None or post is None:
            raise NotFound("Comment")
        if post.author_id != viewer:
            if not can_interact(await relationship(ctx, comment.author_id)):
                raise NotFound("Comment")
            if comment.author_id != viewer:
                raise Forbidden("Only the comment's author or the post's author can delete a comment.")
        result = await work.session.execute(delete(Comment).where(Comment.id == comment_id))
        if getattr(result, "rowcount", 0):
            await work.session.execute(
                update(Post).where(Post.id == comment.post_id).values(comment_count=Post.comment_count - 1)
            )
    return comment_id


async def set_comments_disabled(ctx: RequestContext, post_id: int, disabled: bool) -> Post:
    """The post's author only; comments already there stay."""
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        post = await visible_post(ctx, post_id)
        if post is None:
            raise NotFound("Post")
        if post.author_id != viewer:
            raise Forbidden("Only the author can turn comments on or off.")
        await work.session.execute(update(Post).where(Post.id == post_id).values(comments_disabled=disabled))
    found = await PostById(ctx).load(post_id)
    if found is None:
        raise NotFound("Post")
    return found
