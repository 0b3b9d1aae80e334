"""conversationEvents: the subscription and the events it delivers."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.observability import tracked
from resolvers.accounts.users import UserById, findable_users
from resolvers.conversations import live
from resolvers.conversations.conversations import MAX_MEMBERS
from schema.accounts.users import UserType
from schema.conversations.types import ConversationType, MessageType, given
from schema.edges import Edge
from schema.extensions.query_limits import at_most
from schema.node import decode_id

Ctx = Info[RequestContext, None]


@strawberry.type(name="MessageAdded", description="A new message in one of the viewer's conversations.")
class MessageAddedType:
    message: MessageType = strawberry.field(description="The new message.", extensions=[Edge()])


async def _user(info: Ctx, user_id: int) -> UserType:
    row = await UserById(info.context).load(user_id)
    assert row is not None, "an event outlived its user"
    return UserType.of(row)


@strawberry.type(name="ConversationRead", description="A member moved their read mark forward.")
class ConversationReadType:
    conversation: ConversationType = strawberry.field(
        description="The conversation they read.", extensions=[Edge()]
    )
    reader_id: strawberry.Private[int]
    up_to_seq: int = strawberry.field(description="They have read every message up to this seq.")

    @strawberry.field(description="Who read.", extensions=[Edge(UserType.interacting)])
    async def reader(self, info: Ctx) -> UserType:
        return await _user(info, self.reader_id)


@strawberry.type(
    name="TypingChanged",
    description="Another member started or stopped typing; a start not refreshed lapses after a few "
    "seconds, with an event saying so.",
)
class TypingChangedType:
    conversation: ConversationType = strawberry.field(
        description="The conversation they are typing in.", extensions=[Edge()]
    )
    user_id: strawberry.Private[int]
    is_typing: bool = strawberry.field(
        description="True when they started typing; false when they stopped or it lapsed."
    )

    @strawberry.field(description="Who is typing.", extensions=[Edge(UserType.interacting)])
    async def user(self, info: Ctx) -> UserType:
        return await _user(info, self.user_id)


@strawberry.type(
    name="MessageChanged", description="A message was edited or unsent, or its reactions changed."
)
class MessageChangedType:
    message: MessageType = strawberry.field(
        description="The message after an edit, an unsend or a reaction change.", extensions=[Edge()]
    )


@strawberry.type(
    name="MembersChanged",
    description="The group's members changed (added, removed, left) or it was renamed: in the "
    "conversation's order, after the messages before it.",
)
class MembersChangedType:
    conversation: ConversationType = strawberry.field(
        description="The conversation as it is now: its members, admins and title.", extensions=[Edge()]
    )
    added_ids: strawberry.Private[list[int]]
    removed_ids: strawberry.Private[list[int]]

    @strawberry.field(
        description="Who joined; empty for a removal or a rename.",
        metadata=at_most(MAX_MEMBERS),
        extensions=[Edge()],
    )
    async def added(self, info: Ctx) -> list[UserType]:
        return [UserType.of(u) for u in await findable_users(info.context, self.added_ids) if u is not None]

    @strawberry.field(
        description="Who was removed or left; empty for an addition or a rename.",
        metadata=at_most(MAX_MEMBERS),
        extensions=[Edge()],
    )
    async def removed(self, info: Ctx) -> list[UserType]:
        return [UserType.of(u) for u in await findable_users(info.context, self.removed_ids) if u is not None]


ConversationEvent = Annotated[
    MessageAddedType | ConversationReadType | TypingChangedType | MessageChangedType | MembersChangedType,
    strawberry.union(
        "ConversationEvent",
        description="What happened in a conversation: a new message, a read mark, typing, a changed "
        "message, changed members.",
    ),
]


@strawberry.type
class ConversationSubscription:
    @strawberry.subscription(
        description="Events of the viewer's conversations, or of one. With conversationId and afterSeq, "
        "first every message with seq > afterSeq, then live events: no gap, no duplicate. A subscriber "
        "that falls behind gets RATE_LIMITED with `resubscribe` (and, for one conversation, `afterSeq`)."
    )
    async def conversation_events(
        self,
        info: Ctx,
        conversation_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Only this conversation (NOT_FOUND unless a member); every one of the viewer's "
                "when omitted."
            ),
        ] = strawberry.UNSET,
        after_seq: Annotated[
            int | None,
            strawberry.argument(
                description="With conversationId: the highest seq shown (0 for an empty conversation); "
                "messages above it are replayed first."
            ),
        ] = strawberry.UNSET,
    ) -> AsyncGenerator[ConversationEvent, None]:
        ctx = info.context
        cid = decode_id(conversation_id, "Conversation") if conversation_id else None
        async for event in ctx.each_event(tracked(live.conversation_events(ctx, cid, given(after_seq)))):
            live.reuse(ctx, event)  # what decided the event, read for it: the frame does not read it again
            yield _event_type(event)


EventType = (
    MessageAddedType | ConversationReadType | TypingChangedType | MessageChangedType | MembersChangedType
)


def _event_type(event: live.LiveEvent) -> EventType:
    if isinstance(event, live.MessageEvent):
        return MessageAddedType(message=MessageType.of(event.message))
    if isinstance(event, live.ChangedEvent):
        return MessageChangedType(message=MessageType.of(event.message))
    conversation = ConversationType.of(event.conversation)
    if isinstance(event, live.MembersEvent):
        return MembersChangedType(conversation=conversation, added_ids=event.added, removed_ids=event.removed)
    if isinstance(event, live.ReadEvent):
        return ConversationReadType(
            conversation=conversation, reader_id=event.reader_id, up_to_seq=event.up_to_seq
        )
    return TypingChangedType(conversation=conversation, user_id=event.user_id, is_typing=event.is_typing)
