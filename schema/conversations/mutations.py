"""Mutations on conversations and messages: start, send, read marks, typing, edit, unsend, react."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from resolvers.conversations import changes as message_changes
from resolvers.conversations import conversations, messages
from schema.conversations.types import ConversationType, MessageType, given
from schema.node import decode_id

Ctx = Info[RequestContext, None]

MessageId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The message's global ID; NOT_FOUND unless the viewer may see it."),
]


def conversation_id_of(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Conversation")


@strawberry.input(description="A new conversation.")
class StartConversationInput:
    member_ids: list[strawberry.ID] = strawberry.field(
        description="The other members; the viewer is added. One other member makes a 1:1 conversation, "
        "and starting it again returns the same one."
    )
    title: str | None = strawberry.field(
        default=None,
        description="A group's name, at most 100 characters; a 1:1 conversation takes none (BAD_USER_INPUT).",
    )


@strawberry.input(description="A message to send.")
class SendMessageInput:
    conversation_id: strawberry.ID = strawberry.field(
        description="The conversation's global ID; NOT_FOUND unless the viewer is a member."
    )
    client_id: str = strawberry.field(
        description="Idempotency key you generate (a UUID; 1 to 64 characters, no spaces): sending again "
        "with the same clientId returns the first message and creates nothing."
    )
    body: str | None = strawberry.field(
        default="", description="The text, at most 2,000 characters; may be empty when `mediaId` is given."
    )
    media_id: strawberry.ID | None = strawberry.field(
        default=None, description="An upload of purpose MESSAGE to attach; checked now."
    )
    shared_post_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A post to share (the body may then be empty): NOT_FOUND unless the viewer may see it "
        "now; each member sees it while they may.",
    )
    shared_story_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A live story to share, not with `sharedPostId` (BAD_USER_INPUT): NOT_FOUND unless the "
        "viewer may see it now; each member sees it while it is live and its audience admits them.",
    )


ConversationId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The conversation's global ID; NOT_FOUND unless the viewer is a member."),
]


@strawberry.type
class ConversationMutation:
    @strawberry.mutation(
        description="Starts a conversation, or returns the 1:1 one that exists. BAD_USER_INPUT beyond 32 "
        "members or for someone the viewer blocked; NOT_FOUND for a user the viewer cannot find."
    )
    async def start_conversation(
        self,
        info: Ctx,
        input: Annotated[
            StartConversationInput, strawberry.argument(description="The members and the title.")
        ],
    ) -> ConversationType:
        member_ids = [decode_id(member, "User") for member in input.member_ids]
        return ConversationType.of(
            await conversations.start_conversation(info.context, member_ids, input.title)
        )

    @strawberry.mutation(
        description="Sends a message as the viewer, with the next seq; members get it live. CONFLICT when "
        "the clientId was used in another conversation; BAD_USER_INPUT with neither body nor media."
    )
    async def send_message(
        self,
        info: Ctx,
        input: Annotated[SendMessageInput, strawberry.argument(description="The message.")],
    ) -> MessageType:
        media_id = decode_id(input.media_id, "Media") if input.media_id else None
        shares = messages.Shares(
            post_id=decode_id(input.shared_post_id, "Post") if input.shared_post_id else None,
            story_id=decode_id(input.shared_story_id, "Story") if input.shared_story_id else None,
        )
        row = await messages.send_message(
            info.context,
            conversation_id_of(input.conversation_id),
            input.body or "",
            input.client_id,
            media_id,
            shares,
        )
        return MessageType.of(row)

    @strawberry.mutation(
        description="Moves the viewer's read mark forward (never back; capped at the last message) and "
        "tells the members."
    )
    async def mark_conversation_read(
        self,
        info: Ctx,
        conversation_id: ConversationId,
        up_to_seq: Annotated[
            int, strawberry.argument(description="The seq of the newest message read; not negative.")
        ],
    ) -> ConversationType:
        row = await conversations.mark_read(info.context, conversation_id_of(conversation_id), up_to_seq)
        return ConversationType.of(row)

    @strawberry.mutation(
        description="Tells the other members the viewer is typing, or stopped. A start lapses after a few "
        "seconds: repeat it while typing. Always true."
    )
    async def set_typing(
        self,
        info: Ctx,
        conversation_id: ConversationId,
        is_typing: Annotated[bool, strawberry.argument(description="True while typing, false once stopped.")],
    ) -> bool:
        return await conversations.set_typing(info.context, conversation_id_of(conversation_id), is_typing)

    @strawberry.mutation(
        description="By its sender, within the edit window (15 minutes by default): sets `editedAt` and "
        "tells every member (MessageChanged). FORBIDDEN for someone else's message; BAD_USER_INPUT once "
        "the window has passed or the message was unsent."
    )
    async def edit_message(
        self,
        info: Ctx,
        id: MessageId,
        body: Annotated[str, strawberry.argument(description="The new text, at most 2,000 characters.")],
    ) -> MessageType:
        return MessageType.of(
            await message_changes.edit_message(info.context, decode_id(id, "Message"), body)
        )

    @strawberry.mutation(
        description="By its sender, at any time: the message stays in its place (seq) with its content "
        "removed for everyone (its media deleted from storage) and every member is told "
        "(MessageChanged). Unsending again changes nothing; FORBIDDEN for someone else's message."
    )
    async def unsend_message(self, info: Ctx, id: MessageId) -> MessageType:
        return MessageType.of(await message_changes.unsend_message(info.context, decode_id(id, "Message")))

    @strawberry.mutation(
        description="Sets the viewer's one reaction to a message: a new emoji replaces it, emoji null "
        "removes the viewer's reaction. Every member gets MessageChanged. BAD_USER_INPUT for anything "
        "but a single emoji, or on an unsent message."
    )
    async def react_to_message(
        self,
        info: Ctx,
        message_id: MessageId,
        emoji: Annotated[
            str | None, strawberry.argument(description="A single emoji; null removes the reaction.")
        ] = strawberry.UNSET,
    ) -> MessageType:
        row = await message_changes.react(info.context, decode_id(message_id, "Message"), given(emoji))
        return MessageType.of(row)
