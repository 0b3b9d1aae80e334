"""Hashtags: a tag's page of the posts the viewer may see (resolvers/discovery/captions.py writes them).

The page is chosen in SQL with `content_visible` (the SQL form of `can_see_content`), newest first
by keyset on the post id, so it is exact at any size; its rows are then checked once more with
`can_see_post`, the Python form of the same rule (resolvers/visibility.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from sqlalchemy import ColumnElement, exists, select

from core.context import RequestContext
from models import Hashtag, Post, PostHashtag, User
from resolvers.discovery.caption_text import hashtag_name
from resolvers.loader import RequestLoader, unique
from resolvers.paging import Page, PageArgs, page_from_rows
from resolvers.posts.posts import PostById, can_see_post
from resolvers.visibility_sql import content_visible


def _carried(viewer: int) -> ColumnElement[bool]:
    """At least one post the viewer may see carries the hashtag."""
    return exists().where(
        PostHashtag.hashtag_id == Hashtag.id,
        Post.id == PostHashtag.post_id,
        User.id == Post.author_id,
        content_visible(viewer, Post.author_id, User.is_private),
    )


class VisibleHashtag(RequestLoader[int, Hashtag | None]):
    """A hashtag by id (node(id:)), when a post the viewer may see carries it."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Hashtag | None]:
        stmt = select(Hashtag).where(Hashtag.id.in_(unique(keys)), _carried(self.ctx.require_viewer()))
        async with self.ctx.read() as session:
            return {row.id: row for row in await session.scalars(stmt)}

    def default(self, key: int) -> Hashtag | None:
        return None


async def find_hashtag(ctx: RequestContext, raw_name: str) -> Hashtag | None:
    """`hashtag(name:)`: null for a name that is no tag, or that no post the viewer may see carries."""
    viewer = ctx.require_viewer()
    name = hashtag_name(raw_name)
    if name is None:
        return None
    async with ctx.read() as session:
        found: Hashtag | None = await session.scalar(
            select(Hashtag).where(Hashtag.name == name, _carried(viewer))
        )
    return found


async def hashtag_posts(ctx: RequestContext, hashtag_id: int, args: PageArgs) -> Page[Post]:
    """Posts carrying the tag that the viewer may see, newest first."""
    viewer = ctx.require_viewer()
    stmt = (
        select(Post)
        .join(PostHashtag, PostHashtag.post_id == Post.id)
        .join(User, User.id == Post.author_id)
        .where(PostHashtag.hashtag_id == hashtag_id, content_visible(viewer, Post.author_id, User.is_private))
        .order_by(PostHashtag.post_id.desc())
        .limit(args.first + 1)
    )
    if args.after is not None:
        stmt = stmt.where(PostHashtag.post_id < args.after)
    async with ctx.read() as session:
        rows = list(await session.scalars(stmt))
    for post in rows:
        PostById(ctx).prime(post.id, post)
    page = page_from_rows([(post.id, post) for post in rows], args)
    seen = await asyncio.gather(*(can_see_post(ctx, post) for _, post in page.items))
    kept = [item for item, visible in zip(page.items, seen, strict=True) if visible]
    return Page(kept, page.has_next, page.has_previous)


async def hashtag_by_id(ctx: RequestContext, hashtag_id: int) -> Hashtag | None:
    """node(id:) for a hashtag: signed in, and carried by a post the viewer may see; else None."""
    if ctx.viewer_id is None:
        return None
    return await VisibleHashtag(ctx).load(hashtag_id)
