"""Replies to stories: messages in the 1:1 conversation with the author, referencing the story."""

from __future__ import annotations

from core.context import RequestContext
from core.errors import BadInput, Conflict
from models import Message
from resolvers.activity import recording as activity
from resolvers.conversations.conversations import check_can_message, direct_conversation
from resolvers.conversations.messages import add_message, clean_body, clean_client_id, earlier_send
from resolvers.stories.stories import visible_story
from subscriptions import story_replied


async def reply_to_story(ctx: RequestContext, story_id: int, body: str, client_id: str) -> Message:
    """A message to the author in their 1:1 conversation, referencing the story; idempotent on clientId.

    Everything is checked before anything is written, and written in one transaction: a refused
    reply leaves no conversation behind. A retry passes the same checks before it gets the first
    reply back: once the story is gone for the viewer (a block, expiry, its audience), NOT_FOUND."""
    viewer = ctx.require_viewer()
    client_id = clean_client_id(client_id)
    text = clean_body(body)
    if not text:
        raise BadInput("A reply needs some text.", field="body")
    async with ctx.write() as work:
        earlier = await earlier_send(ctx, work, client_id)
        author = (await visible_story(ctx, story_id)).author_id
        if author == viewer:
            raise BadInput("You cannot reply to your own story.", field="storyId")
        await work.lock_pair(viewer, author)
        story = await visible_story(ctx, story_id)  # again, now that no block can come in between
        await check_can_message(ctx, author)
        if earlier is not None:
            if earlier.reply_to_story_id != story_id:
                raise Conflict("This clientId was already used for another message.", field="clientId")
            return earlier  # a retried reply: the first one stands, and nothing is published again
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
