"""Replying to stories, and the author's live stream of reactions and replies."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.observability import tracked
from resolvers import story_activity, story_replies
from schema.conversations import MessageType
from schema.node import decode_id
from schema.stories import StoryReacted, StoryType
from schema.users import UserType

Ctx = Info[RequestContext, None]


@strawberry.type
class StoryReplied:
    story: StoryType
    message: MessageType


StoryActivity = Annotated[StoryReacted | StoryReplied, strawberry.union("StoryActivity")]


@strawberry.type
class StoryReplyMutation:
    @strawberry.mutation(
        description="Sends a message to the story's author in their 1:1 conversation, referencing the story."
    )
    async def reply_to_story(
        self, info: Ctx, story_id: strawberry.ID, body: str, client_id: str
    ) -> MessageType:
        message = await story_replies.reply_to_story(
            info.context, decode_id(story_id, "Story"), body, client_id
        )
        return MessageType.of(message)


@strawberry.type
class StoryActivitySubscription:
    @strawberry.subscription(description="Reactions and replies to the viewer's own stories.")
    async def story_activity(self, info: Ctx) -> AsyncGenerator[StoryActivity, None]:
        ctx = info.context
        async for event in ctx.each_event(tracked(story_activity.story_activity(ctx))):
            if isinstance(event, story_activity.Reacted):
                yield StoryReacted(
                    story=StoryType.of(event.story),
                    user=UserType.of(event.user),
                    emoji=event.emoji,
                    reacted_at=event.reacted_at,
                )
            else:
                yield StoryReplied(story=StoryType.of(event.story), message=MessageType.of(event.message))
