"""Conversations and messages: types, the conversations query, the mutations and conversationEvents."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, TypeVar

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.ids import to_global_id
from core.observability import tracked
from models import Conversation as ConversationRow
from models import Message as MessageRow
from resolvers import conversations, live, messages
from resolvers.media import MediaById
from resolvers.paging import Page, page_args
from resolvers.stories import visible_stories
from resolvers.users import UserById, findable_users
from schema.media import MediaType
from schema.node import Node, PageInfo, decode_id
from schema.stories import StoryType
from schema.users import UserType

Ctx = Info[RequestContext, None]
T = TypeVar("T")


@strawberry.type(name="Conversation")
class ConversationType(Node):
    row: strawberry.Private[ConversationRow]

    @classmethod
    def of(cls, row: ConversationRow) -> ConversationType:
        return cls(id=strawberry.ID(to_global_id("Conversation", row.id)), row=row)

    @strawberry.field
    def is_group(self) -> bool:
        return self.row.is_group

    @strawberry.field
    def title(self) -> str | None:
        return self.row.title

    @strawberry.field
    async def members(self, info: Ctx) -> list[UserType]:
        ids = await conversations.MemberIds(info.context).load(self.row.id)
        return [UserType.of(user) for user in await findable_users(info.context, ids) if user is not None]

    @strawberry.field
    async def last_message(self, info: Ctx) -> MessageType | None:
        if self.row.last_message_id is None:
            return None
        row = await messages.MessageById(info.context).load(self.row.last_message_id)
        if row is None or not (await messages.visible_messages(info.context, [row]))[0]:
            return None
        return MessageType.of(row)

    @strawberry.field(description="Messages from others with seq above the viewer's read mark.")
    async def unread_count(self, info: Ctx) -> int:
        return await conversations.UnreadCount(info.context).load(self.row.id)

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @strawberry.field(description="Ordered by seq; `last`/`before` page back through history.")
    async def messages(
        self,
        info: Ctx,
        first: int | None = strawberry.UNSET,
        after: str | None = strawberry.UNSET,
        last: int | None = strawberry.UNSET,
        before: str | None = strawberry.UNSET,
    ) -> MessageConnection:
        key = messages.page_key(self.row.id, _given(first), _given(after), _given(last), _given(before))
        page = await messages.MessagesPage(info.context).load(key)
        return await MessageConnection.of(info.context, page)


@strawberry.type(name="Message")
class MessageType(Node):
    row: strawberry.Private[MessageRow]

    @classmethod
    def of(cls, row: MessageRow) -> MessageType:
        return cls(id=strawberry.ID(to_global_id("Message", row.id)), row=row)

    @strawberry.field
    async def conversation(self, info: Ctx) -> ConversationType:
        row = await conversations.ConversationById(info.context).load(self.row.conversation_id)
        assert row is not None, "a message outlived its conversation"
        return ConversationType.of(row)

    @strawberry.field
    async def sender(self, info: Ctx) -> UserType:
        row = await UserById(info.context).load(self.row.sender_id)
        assert row is not None, "a message outlived its sender"
        return UserType.of(row)

    @strawberry.field(
        description="1, 2, 3, ... within its conversation, in the order the server accepted them."
    )
    def seq(self) -> int:
        return self.row.seq

    @strawberry.field(description="The sender's idempotency key.")
    def client_id(self) -> str:
        return self.row.client_id

    @strawberry.field
    def body(self) -> str:
        return self.row.body

    @strawberry.field(description="null once the story has expired or is not visible to the viewer.")
    async def reply_to_story(self, info: Ctx) -> StoryType | None:
        story_id = self.row.reply_to_story_id
        if story_id is None:
            return None
        story = (await visible_stories(info.context, [story_id])).get(story_id)
        return StoryType.of(story) if story else None

    @strawberry.field
    async def media(self, info: Ctx) -> MediaType | None:
        if self.row.media_id is None:
            return None
        row = await MediaById(info.context).load(self.row.media_id)
        return MediaType.of(row) if row else None

    @strawberry.field
    def sent_at(self) -> datetime:
        return self.row.sent_at


@strawberry.type
class ConversationEdge:
    cursor: str
    node: ConversationType


@strawberry.type
class ConversationConnection:
    edges: list[ConversationEdge]
    page_info: PageInfo


@strawberry.type
class MessageEdge:
    cursor: str
    node: MessageType


@strawberry.type
class MessageConnection:
    edges: list[MessageEdge]
    page_info: PageInfo

    @classmethod
    async def of(cls, ctx: RequestContext, page: Page[MessageRow]) -> MessageConnection:
        rows = [row for _, row in page.items]
        shown = await messages.visible_messages(ctx, rows)
        edges = [
            MessageEdge(cursor=cursor, node=MessageType.of(row))
            for (cursor, row), show in zip(page.items, shown, strict=True)
            if show
        ]
        return cls(edges=edges, page_info=PageInfo.of(page))


@strawberry.type(name="MessageAdded")
class MessageAddedType:
    message: MessageType


async def _user(info: Ctx, user_id: int) -> UserType:
    row = await UserById(info.context).load(user_id)
    assert row is not None, "an event outlived its user"
    return UserType.of(row)


@strawberry.type(name="ConversationRead")
class ConversationReadType:
    conversation: ConversationType
    reader_id: strawberry.Private[int]
    up_to_seq: int

    @strawberry.field
    async def reader(self, info: Ctx) -> UserType:
        return await _user(info, self.reader_id)


@strawberry.type(name="TypingChanged")
class TypingChangedType:
    conversation: ConversationType
    user_id: strawberry.Private[int]
    is_typing: bool

    @strawberry.field
    async def user(self, info: Ctx) -> UserType:
        return await _user(info, self.user_id)


ConversationEvent = Annotated[
    MessageAddedType | ConversationReadType | TypingChangedType, strawberry.union("ConversationEvent")
]


@strawberry.input
class StartConversationInput:
    member_ids: list[strawberry.ID] = strawberry.field(
        description="The other members; the viewer is added. One other member makes a 1:1 conversation, "
        "and starting it again returns the same one."
    )
    title: str | None = None


@strawberry.input
class SendMessageInput:
    conversation_id: strawberry.ID
    client_id: str = strawberry.field(
        description="Idempotency key: sending again with the same clientId returns the first message "
        "and creates nothing."
    )
    body: str | None = ""
    media_id: strawberry.ID | None = None


def _given(value: T | None) -> T | None:
    """An argument the client left out arrives as UNSET: treat it as null."""
    return None if value is strawberry.UNSET else value


def _conversation_id(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Conversation")


@strawberry.type
class ConversationQuery:
    @strawberry.field(description="The viewer's conversations, most recently active first.")
    async def conversations(
        self, info: Ctx, first: int | None = 20, after: str | None = strawberry.UNSET
    ) -> ConversationConnection:
        page = await conversations.conversations_page(info.context, page_args(first, after))
        await messages.prefetch_conversations(info.context, [row for _, row in page.items])
        edges = [ConversationEdge(cursor=cursor, node=ConversationType.of(row)) for cursor, row in page.items]
        return ConversationConnection(edges=edges, page_info=PageInfo.of(page))


@strawberry.type
class ConversationMutation:
    @strawberry.mutation
    async def start_conversation(self, info: Ctx, input: StartConversationInput) -> ConversationType:
        member_ids = [decode_id(member, "User") for member in input.member_ids]
        return ConversationType.of(
            await conversations.start_conversation(info.context, member_ids, input.title)
        )

    @strawberry.mutation
    async def send_message(self, info: Ctx, input: SendMessageInput) -> MessageType:
        media_id = decode_id(input.media_id, "Media") if input.media_id else None
        row = await messages.send_message(
            info.context, _conversation_id(input.conversation_id), input.body or "", input.client_id, media_id
        )
        return MessageType.of(row)

    @strawberry.mutation
    async def mark_conversation_read(
        self, info: Ctx, conversation_id: strawberry.ID, up_to_seq: int
    ) -> ConversationType:
        row = await conversations.mark_read(info.context, _conversation_id(conversation_id), up_to_seq)
        return ConversationType.of(row)

    @strawberry.mutation
    async def set_typing(self, info: Ctx, conversation_id: strawberry.ID, is_typing: bool) -> bool:
        return await conversations.set_typing(info.context, _conversation_id(conversation_id), is_typing)


@strawberry.type
class ConversationSubscription:
    @strawberry.subscription(
        description="Events of the viewer's conversations, or of one. With conversationId and afterSeq, "
        "first every message with seq > afterSeq, then live events: no gap, no duplicate."
    )
    async def conversation_events(
        self,
        info: Ctx,
        conversation_id: strawberry.ID | None = strawberry.UNSET,
        after_seq: int | None = strawberry.UNSET,
    ) -> AsyncGenerator[ConversationEvent, None]:
        ctx = info.context
        cid = _conversation_id(conversation_id) if conversation_id else None
        async for event in ctx.each_event(tracked(live.conversation_events(ctx, cid, _given(after_seq)))):
            yield _event_type(event)


def _event_type(event: live.LiveEvent) -> MessageAddedType | ConversationReadType | TypingChangedType:
    if isinstance(event, live.MessageEvent):
        return MessageAddedType(message=MessageType.of(event.message))
    conversation = ConversationType.of(event.conversation)
    if isinstance(event, live.ReadEvent):
        return ConversationReadType(
            conversation=conversation, reader_id=event.reader_id, up_to_seq=event.up_to_seq
        )
    return TypingChangedType(conversation=conversation, user_id=event.user_id, is_typing=event.is_typing)


async def conversation_node(ctx: RequestContext, conversation_id: int) -> ConversationType | None:
    row = await conversations.visible_conversation(ctx, conversation_id)
    return ConversationType.of(row) if row else None


async def message_node(ctx: RequestContext, message_id: int) -> MessageType | None:
    row = await messages.visible_message(ctx, message_id)
    return MessageType.of(row) if row else None
