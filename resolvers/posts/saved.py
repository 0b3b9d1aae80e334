"""Saved posts: a private list per viewer, most recently saved first.

A saved post stays saved whatever happens to its visibility; the list shows it only while the
viewer may see it (chosen in SQL with `content_visible`, then checked with `can_see_post`), so it
disappears when its author goes private or a block stands, and comes back when that is undone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress

from sqlalchemy import delete, select

from core.context import RequestContext
from core.errors import NotFound
from core.sql import insert_ignore
from models import Post, SavedPost, User
from resolvers.loader import RequestLoader, unique
from resolvers.paging import Page, PageArgs, page_from_rows
from resolvers.posts.posts import PostById, visible_post_locked
from resolvers.visibility_sql import content_visible


class ViewerSaved(RequestLoader[int, bool]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, bool]:
        viewer = self.ctx.viewer_id
        if viewer is None:
            return {}
        stmt = select(SavedPost.post_id).where(
            SavedPost.user_id == viewer, SavedPost.post_id.in_(unique(keys))
        )
        async with self.ctx.read() as session:
            return {post_id: True for post_id in await session.scalars(stmt)}

    def default(self, key: int) -> bool:
        return False


async def set_saved(ctx: RequestContext, post_id: int, saved: bool) -> Post:
    """Idempotent both ways; NOT_FOUND for a post the viewer may not see (saved or not)."""
    viewer = ctx.require_viewer()
    services = ctx.services
    async with ctx.write() as work:
        await visible_post_locked(ctx, work, post_id)
        if saved:
            await insert_ignore(
                work.session,
                SavedPost,
                id=services.ids.next_id(),
                user_id=viewer,
                post_id=post_id,
                created_at=services.clock.now(),
            )
        else:
            await work.session.execute(
                delete(SavedPost).where(SavedPost.user_id == viewer, SavedPost.post_id == post_id)
            )
    with suppress(KeyError):  # a commit may have cleared it already
        ViewerSaved(ctx).clear(post_id)
    post = await PostById(ctx).load(post_id)
    if post is None:
        raise NotFound("Post")
    return post


async def saved_posts_page(ctx: RequestContext, args: PageArgs) -> Page[Post]:
    viewer = ctx.require_viewer()
    stmt = (
        select(SavedPost.id, Post)
        .join(Post, Post.id == SavedPost.post_id)
        .join(User, User.id == Post.author_id)
        .where(SavedPost.user_id == viewer, content_visible(viewer, Post.author_id, User.is_private))
        .order_by(SavedPost.id.desc())
        .limit(args.first + 1)
    )
    if args.after is not None:
        stmt = stmt.where(SavedPost.id < args.after)
    async with ctx.read() as session:
        rows = [(saved_id, post) for saved_id, post in (await session.execute(stmt)).all()]
    for _, post in rows:
        PostById(ctx).prime(post.id, post)
        ViewerSaved(ctx).prime(post.id, True)
    # The statement applied the visibility rule (content_visible): each row is a post the viewer
    # may see, and pages stay full.
    return page_from_rows(rows, args)
