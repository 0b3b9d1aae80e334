"""Replying to stories, and the author's live stream of reactions and replies."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.observability import tracked
from resolvers.stories import live as story_activity
from resolvers.stories import replies as story_replies
from schema.accounts.users import UserType
from schema.conversations import MessageType
from schema.edges import Edge
from schema.node import decode_id
from schema.stories.stories import StoryReacted, StoryType

Ctx = Info[RequestContext, None]


@strawberry.type(description="A reply to one of the viewer's live stories, delivered by storyActivity.")
class StoryReplied:
    story: StoryType = strawberry.field(
        description="The viewer's story that got the reply.", extensions=[Edge()]
    )
    message: MessageType = strawberry.field(
        description="The reply: a message in the 1:1 conversation with its sender.", extensions=[Edge()]
    )


StoryActivity = Annotated[
    StoryReacted | StoryReplied,
    strawberry.union(
        "StoryActivity", description="A reaction or a reply to one of the viewer's live stories."
    ),
]


@strawberry.type
class StoryReplyMutation:
    @strawberry.mutation(
        description="Sends a message to the story's author in their 1:1 conversation, referencing the story. "
        "Idempotent on clientId; CONFLICT when it was used for another message."
    )
    async def reply_to_story(
        self,
        info: Ctx,
        story_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="A live story the viewer may see (NOT_FOUND otherwise); their own is "
                "BAD_USER_INPUT."
            ),
        ],
        body: Annotated[str, strawberry.argument(description="The text, 1 to 2,000 characters.")],
        client_id: Annotated[
            str,
            strawberry.argument(
                description="A key you generate (a UUID; 1 to 64 characters, no spaces): replying again with "
                "it returns the first message and creates nothing."
            ),
        ],
    ) -> MessageType:
        message = await story_replies.reply_to_story(
            info.context, decode_id(story_id, "Story"), body, client_id
        )
        return MessageType.of(message)


@strawberry.type
class StoryActivitySubscription:
    @strawberry.subscription(
        description="Reactions and replies to the viewer's own live stories, as they happen. A subscriber "
        "that falls behind gets RATE_LIMITED (resubscribe: true)."
    )
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
