"""Posts and stories shared into a conversation.

The sender must see what they share when they send it; each reader sees it only while the one
visibility rule admits them (resolvers/posts/posts.py, resolvers/stories/stories.py), decided at read time for
that reader: a deleted post, an expired story, a private author or a block make it null.
"""

from __future__ import annotations

from core.context import RequestContext
from core.errors import BadInput, NotFound
from models import Message, Post, Story
from resolvers.posts.posts import visible_post
from resolvers.stories.stories import visible_stories


async def check_shares(ctx: RequestContext, post_id: int | None, story_id: int | None) -> None:
    """The viewer may share these now: NOT_FOUND for a post or story they may not see."""
    if post_id is not None and story_id is not None:
        raise BadInput("Share a post or a story, not both.", field="sharedStoryId")
    if post_id is not None and await visible_post(ctx, post_id) is None:
        raise NotFound("Post")
    if story_id is not None and story_id not in await visible_stories(ctx, [story_id]):
        raise NotFound("Story")


async def shared_post(ctx: RequestContext, message: Message) -> Post | None:
    if message.shared_post_id is None:
        return None
    return await visible_post(ctx, message.shared_post_id)


async def shared_story(ctx: RequestContext, message: Message) -> Story | None:
    if message.shared_story_id is None:
        return None
    return (await visible_stories(ctx, [message.shared_story_id])).get(message.shared_story_id)
