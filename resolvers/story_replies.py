"""Replies to stories (messages in the 1:1 conversation with the author) and the author's live
feed of reactions and replies (`storyActivity`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from core.context import RequestContext
from core.errors import BadInput, Conflict, RateLimited
from models import Message, Story, User
from resolvers import activity
from resolvers.conversations import check_can_message, direct_conversation
from resolvers.messages import add_message, clean_body, clean_client_id, earlier_send, visible_message
from resolvers.stories import visible_stories, visible_story
from resolvers.users import findable_user, relationship
from resolvers.visibility import can_interact
from subscriptions import (
    InvalidEvent,
    SubscriptionOverflow,
    parse_event,
    story_replied,
    user_channel,
)
from subscriptions.events import StoryReacted as StoryReactedEvent

log = logging.getLogger("ephemera.stories")


async def reply_to_story(ctx: RequestContext, story_id: int, body: str, client_id: str) -> Message:
    """A message to the author in their 1:1 conversation, referencing the story; idempotent on clientId.

    Everything is checked before anything is written, and written in one transaction: a refused
    reply leaves no conversation behind."""
    viewer = ctx.require_viewer()
    client_id = clean_client_id(client_id)
    text = clean_body(body)
    if not text:
        raise BadInput("A reply needs some text.", field="body")
    async with ctx.write() as work:
        earlier = await earlier_send(ctx, work, client_id)
        if earlier is not None:
            if earlier.reply_to_story_id != story_id:
                raise Conflict("This clientId was already used for another message.", field="clientId")
            return earlier  # a retried reply: the first one stands, and nothing is published again
        author = (await visible_story(ctx, story_id)).author_id
        if author == viewer:
            raise BadInput("You cannot reply to your own story.", field="storyId")
        await work.lock_pair(viewer, author)
        story = await visible_story(ctx, story_id)  # again, now that no block can come in between
        await check_can_message(ctx, author)
        conversation = await direct_conversation(ctx, work, author)
        message = await add_message(ctx, work, conversation.id, text, client_id, None, story.id)
        work.publish([author], story_replied(story.id, message.id))
        await activity.record(
            work,
            author,
            activity.ActivityKind.STORY_REPLIED,
            viewer,
            story_id=story.id,
            message_id=message.id,
        )
    return message


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
