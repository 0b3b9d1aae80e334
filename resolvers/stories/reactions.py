"""Reactions to stories: one emoji per viewer per story, replaced by a new one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select

from core.context import RequestContext
from core.errors import BadInput
from core.sql import insert_ignore_many, upsert
from models import Story, StoryReaction, StoryView
from resolvers.activity import recording as activity
from resolvers.emoji import is_single_emoji
from resolvers.loader import RequestLoader, unique
from resolvers.stories.stories import visible_story
from subscriptions import story_reacted


class ViewerReaction(RequestLoader[int, str | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, str | None]:
        viewer = self.ctx.viewer_id
        if viewer is None:
            return {}
        stmt = select(StoryReaction.story_id, StoryReaction.emoji).where(
            StoryReaction.user_id == viewer, StoryReaction.story_id.in_(unique(keys))
        )
        async with self.ctx.read() as session:
            return {story_id: emoji for story_id, emoji in (await session.execute(stmt)).all()}

    def default(self, key: int) -> str | None:
        return None


async def react(ctx: RequestContext, story_id: int, emoji: str) -> Story:
    """One reaction per user per story, replaced by a new one; reacting also counts as a view."""
    viewer = ctx.require_viewer()
    if not is_single_emoji(emoji):
        raise BadInput("A reaction is a single emoji.", field="emoji")
    services = ctx.services
    async with ctx.write() as work:
        author = (await visible_story(ctx, story_id)).author_id
        await work.lock_pair(viewer, author)  # a block in flight commits first, or waits
        story = await visible_story(ctx, story_id)
        now = services.clock.now()
        await insert_ignore_many(
            work.session,
            StoryView,
            [{"id": services.ids.next_id(), "story_id": story_id, "viewer_id": viewer, "viewed_at": now}],
        )
        await upsert(
            work.session,
            StoryReaction,
            ["story_id", "user_id"],
            story_id=story_id,
            user_id=viewer,
            emoji=emoji,
            reacted_at=now,
        )
        if author != viewer:
            work.publish([author], story_reacted(story_id, viewer, emoji, now.isoformat()))
        await activity.record(
            work, author, activity.ActivityKind.STORY_REACTED, viewer, story_id=story_id, emoji=emoji
        )
    return story
