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
from schema.node import After, First, Node, PageInfo, decode_id
from schema.query_limits import at_most
from schema.stories import StoryType
from schema.users import UserType

Ctx = Info[RequestContext, None]
T = TypeVar("T")


@strawberry.type(
    name="Conversation",
    description="Direct messages: the 1:1 conversation of two users, or a group of up to 32 members.",
)
class ConversationType(Node):
    row: strawberry.Private[ConversationRow]

    @classmethod
    def of(cls, row: ConversationRow) -> ConversationType:
        return cls(id=strawberry.ID(to_global_id("Conversation", row.id)), row=row)

    @strawberry.field(description="A group; false for the 1:1 conversation of two users.")
    def is_group(self) -> bool:
        return self.row.is_group

    @strawberry.field(
        description="A group's name, at most 100 characters; null for a 1:1 conversation or an untitled "
        "group."
    )
    def title(self) -> str | None:
        return self.row.title

    @strawberry.field(
        description="Everyone in it, the viewer included, except users the viewer may not find.",
        metadata=at_most(conversations.MAX_MEMBERS),
    )
    async def members(self, info: Ctx) -> list[UserType]:
        ids = await conversations.MemberIds(info.context).load(self.row.id)
        return [UserType.of(user) for user in await findable_users(info.context, ids) if user is not None]

    @strawberry.field(
        description="The newest message; null when there is none, or when the viewer may not see it "
        "(a block)."
    )
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

    @strawberry.field(description="When the last message was sent, or the conversation started.")
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @strawberry.field(description="Ordered by seq; `last`/`before` page back through history.")
    async def messages(
        self,
        info: Ctx,
        first: Annotated[
            int | None,
            strawberry.argument(
                description="Page forward: this many messages (1 to 100) after `after`, or the oldest. Not "
                "with `last` (BAD_USER_INPUT)."
            ),
        ] = strawberry.UNSET,
        after: Annotated[
            str | None,
            strawberry.argument(description="Page forward from this cursor (a page's `endCursor`)."),
        ] = strawberry.UNSET,
        last: Annotated[
            int | None,
            strawberry.argument(
                description="Page back: this many messages (1 to 100) before `before`, or the newest. With "
                "neither `first` nor `last`: 20 after `after`, else the newest 20."
            ),
        ] = strawberry.UNSET,
        before: Annotated[
            str | None,
            strawberry.argument(description="Page back from this cursor (a page's `startCursor`)."),
        ] = strawberry.UNSET,
    ) -> MessageConnection:
        key = messages.page_key(self.row.id, _given(first), _given(after), _given(last), _given(before))
        page = await messages.MessagesPage(info.context).load(key)
        return await MessageConnection.of(info.context, page)


@strawberry.type(name="Message", description="A direct message in a conversation.")
class MessageType(Node):
    row: strawberry.Private[MessageRow]

    @classmethod
    def of(cls, row: MessageRow) -> MessageType:
        return cls(id=strawberry.ID(to_global_id("Message", row.id)), row=row)

    @strawberry.field(description="The conversation it was sent in.")
    async def conversation(self, info: Ctx) -> ConversationType:
        row = await conversations.ConversationById(info.context).load(self.row.conversation_id)
        assert row is not None, "a message outlived its conversation"
        return ConversationType.of(row)

    @strawberry.field(description="Who sent it.")
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

    @strawberry.field(description="The text, at most 2,000 characters; empty for a message of media alone.")
    def body(self) -> str:
        return self.row.body

    @strawberry.field(
        description="The story this message replies to; null when it is no reply, and once the story has "
        "expired or is not visible to the viewer."
    )
    async def reply_to_story(self, info: Ctx) -> StoryType | None:
        story_id = self.row.reply_to_story_id
        if story_id is None:
            return None
        story = (await visible_stories(info.context, [story_id])).get(story_id)
        return StoryType.of(story) if story else None

    @strawberry.field(description="The attached photo or video; null when none.")
    async def media(self, info: Ctx) -> MediaType | None:
        if self.row.media_id is None:
            return None
        row = await MediaById(info.context).load(self.row.media_id)
        return MediaType.of(row) if row else None

    @strawberry.field(description="When the server accepted it.")
    def sent_at(self) -> datetime:
        return self.row.sent_at


@strawberry.type(description="A conversation in a paged list, with the cursor of its position.")
class ConversationEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this conversation in the list; pass it as `after`."
    )
    node: ConversationType = strawberry.field(description="The conversation at this position.")


@strawberry.type(description="One page of conversations.")
class ConversationConnection:
    edges: list[ConversationEdge] = strawberry.field(
        description="The page's conversations, most recently active first."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more conversations follow, and the cursor to get them."
    )


@strawberry.type(description="A message in a paged history, with the cursor of its position.")
class MessageEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this message: pass it as `after` to page forward, as `before` to "
        "page back."
    )
    node: MessageType = strawberry.field(description="The message at this position.")


@strawberry.type(description="One page of a conversation's messages.")
class MessageConnection:
    edges: list[MessageEdge] = strawberry.field(
        description="The page's messages, oldest first; messages from users in a blocked pair with the "
        "viewer are left out, so a page may hold fewer than asked."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether newer (`hasNextPage`) or older (`hasPreviousPage`) messages remain, and the "
        "cursors to get them."
    )

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


@strawberry.type(name="MessageAdded", description="A new message in one of the viewer's conversations.")
class MessageAddedType:
    message: MessageType = strawberry.field(description="The new message.")


async def _user(info: Ctx, user_id: int) -> UserType:
    row = await UserById(info.context).load(user_id)
    assert row is not None, "an event outlived its user"
    return UserType.of(row)


@strawberry.type(name="ConversationRead", description="A member moved their read mark forward.")
class ConversationReadType:
    conversation: ConversationType = strawberry.field(description="The conversation they read.")
    reader_id: strawberry.Private[int]
    up_to_seq: int = strawberry.field(description="They have read every message up to this seq.")

    @strawberry.field(description="Who read.")
    async def reader(self, info: Ctx) -> UserType:
        return await _user(info, self.reader_id)


@strawberry.type(
    name="TypingChanged",
    description="Another member started or stopped typing; a start not refreshed lapses after a few "
    "seconds, with an event saying so.",
)
class TypingChangedType:
    conversation: ConversationType = strawberry.field(description="The conversation they are typing in.")
    user_id: strawberry.Private[int]
    is_typing: bool = strawberry.field(
        description="True when they started typing; false when they stopped or it lapsed."
    )

    @strawberry.field(description="Who is typing.")
    async def user(self, info: Ctx) -> UserType:
        return await _user(info, self.user_id)


ConversationEvent = Annotated[
    MessageAddedType | ConversationReadType | TypingChangedType,
    strawberry.union(
        "ConversationEvent",
        description="What happened in a conversation: a new message, a read mark, typing.",
    ),
]


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


def _given(value: T | None) -> T | None:
    """An argument the client left out arrives as UNSET: treat it as null."""
    return None if value is strawberry.UNSET else value


def _conversation_id(global_id: strawberry.ID) -> int:
    return decode_id(global_id, "Conversation")


ConversationId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The conversation's global ID; NOT_FOUND unless the viewer is a member."),
]


@strawberry.type
class ConversationQuery:
    @strawberry.field(description="The viewer's conversations, most recently active first.")
    async def conversations(
        self, info: Ctx, first: First = 20, after: After = strawberry.UNSET
    ) -> ConversationConnection:
        page = await conversations.conversations_page(info.context, page_args(first, after))
        await messages.prefetch_conversations(info.context, [row for _, row in page.items])
        edges = [ConversationEdge(cursor=cursor, node=ConversationType.of(row)) for cursor, row in page.items]
        return ConversationConnection(edges=edges, page_info=PageInfo.of(page))


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
        row = await messages.send_message(
            info.context, _conversation_id(input.conversation_id), input.body or "", input.client_id, media_id
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
        row = await conversations.mark_read(info.context, _conversation_id(conversation_id), up_to_seq)
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
        return await conversations.set_typing(info.context, _conversation_id(conversation_id), is_typing)


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
