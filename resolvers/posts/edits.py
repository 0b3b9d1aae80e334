"""editPost: the author rewrites a caption; its hashtags and mentions follow, its place does not."""

from __future__ import annotations

from contextlib import suppress

from sqlalchemy import update

from core.context import RequestContext
from core.errors import Forbidden, NotFound
from models import Post
from resolvers.discovery.caption_text import parse
from resolvers.discovery.captions import caption_written
from resolvers.posts.posts import MAX_CAPTION, PostById, visible_post
from resolvers.text import clean_text


async def edit_post(ctx: RequestContext, post_id: int, caption: str) -> Post:
    """The author only (FORBIDDEN for anyone else who may see the post, NOT_FOUND for the rest).
    The id, which orders every feed and page, is untouched; `edited_at` says it changed."""
    viewer = ctx.require_viewer()
    text = clean_text(caption, field="caption", max_length=MAX_CAPTION)
    parsed = parse(text, field="caption")
    async with ctx.write() as work:
        post = await visible_post(ctx, post_id)
        if post is None:
            raise NotFound("Post")
        if post.author_id != viewer:
            raise Forbidden("Only the author can edit a post.")
        result = await work.session.execute(
            update(Post)
            .where(Post.id == post_id, Post.author_id == viewer)
            .values(caption=text, edited_at=ctx.services.clock.now())
        )
        if not getattr(result, "rowcount", 0):
            raise NotFound("Post")  # deleted meanwhile
        await caption_written(work, post, parsed, edit=True)
    with suppress(KeyError):  # a commit may have cleared it already
        PostById(ctx).clear(post_id)
    edited = await PostById(ctx).load(post_id)
    if edited is None:
        raise NotFound("Post")
    return edited
