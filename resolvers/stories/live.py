"""`storyActivity`: the author's live stream of reactions and replies to their stories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from core.context import RequestContext
from core.errors import RateLimited
from models import Message, Story, User
from resolvers.accounts.users import findable_user, relationship
from resolvers.conversations.messages import visible_message
from resolvers.stories.stories import visible_stories
from resolvers.visibility import can_interact
from subscriptions import InvalidEvent, SubscriptionOverflow, parse_event, user_channel
from subscriptions.events import StoryReacted as StoryReactedEvent


@dataclass(frozen=True)
class Reacted:
    story: Story
    user: User
    emoji: str
    reacted_at: datetime


@dataclass(frozen=True)
class Replied:
    story: Story
    message: Message


class ActivityFellBehind(RateLimited):
    def __init__(self) -> None:
        super().__init__("This subscription fell behind; subscribe again.", retry_after=1)
        self.extensions["resubscribe"] = True


async def story_activity(ctx: RequestContext) -> AsyncIterator[Reacted | Replied]:
    """Reactions and replies to the viewer's stories, each re-checked with fresh loaders: the story
    still live, and no block between the viewer and whoever reacted or replied."""
    viewer = ctx.require_viewer()
    async with ctx.services.pubsub.subscribe(user_channel(viewer)) as subscription:
        subscription.mark_caught_up()  # nothing to replay: live from the moment it is subscribed
        try:
            async for received in subscription:
                try:
                    event = parse_event(received.event)
                except InvalidEvent:
                    continue
                fresh = ctx.fresh()
                if event["type"] == "story_reacted":
                    reacted = await _reacted(fresh, viewer, event)
                    if reacted is not None:
                        yield reacted
                elif event["type"] == "story_replied":
                    replied = await _replied(fresh, viewer, event["story_id"], event["message_id"])
                    if replied is not None:
                        yield replied
        except SubscriptionOverflow:
            raise ActivityFellBehind() from None


async def _own_live_story(ctx: RequestContext, viewer: int, story_id: int) -> Story | None:
    story = (await visible_stories(ctx, [story_id])).get(story_id)
    return story if story is not None and story.author_id == viewer else None


async def _reacted(ctx: RequestContext, viewer: int, event: StoryReactedEvent) -> Reacted | None:
    story = await _own_live_story(ctx, viewer, event["story_id"])
    user = await findable_user(ctx, event["user_id"])
    if story is None or user is None or not can_interact(await relationship(ctx, event["user_id"])):
        return None
    return Reacted(story, user, event["emoji"], datetime.fromisoformat(event["reacted_at"]))


async def _replied(ctx: RequestContext, viewer: int, story_id: int, message_id: int) -> Replied | None:
    story = await _own_live_story(ctx, viewer, story_id)
    message = await visible_message(ctx, message_id)
    if story is None or message is None:
        return None
    return Replied(story, message)
