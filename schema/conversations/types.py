"""Conversations and messages as GraphQL types: what a member sees of them, decided per viewer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, TypeVar

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.ids import to_global_id
from models import Conversation as ConversationRow
from models import Message as MessageRow
from models import MessageReaction as MessageReactionRow
from resolvers.accounts.users import UserById, findable_users, interacting
from resolvers.conversations import changes as message_changes
from resolvers.conversations import conversations, messages
from resolvers.conversations import members as conversation_members
from resolvers.conversations import shares as message_shares
from resolvers.media.uploads import MediaById
from resolvers.paging import Page
from resolvers.stories.stories import visible_stories
from schema.accounts.users import UserType
from schema.edges import Edge
from schema.extensions.query_limits import at_most
from schema.media.media import MediaType
from schema.node import Node, PageInfo
from schema.planning import Child, Column, Pure, planned
from schema.posts.posts import PostType
from schema.stories.stories import StoryType

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

    @classmethod
    async def visible(cls, ctx: RequestContext, items: Sequence[ConversationType]) -> list[bool]:
        return await conversations.member_of(ctx, [item.row.id for item in items])

    @strawberry.field(
        description="A group; false for the 1:1 conversation of two users.",
        metadata=planned(Column("is_group")),
    )
    def is_group(self) -> bool:
        return self.row.is_group

    @strawberry.field(
        description="A group's name, at most 100 characters; null for a 1:1 conversation or an untitled "
        "group.",
        metadata=planned(Column("title")),
    )
    def title(self) -> str | None:
        return self.row.title

    @strawberry.field(
        description="Everyone in it, the viewer included, except users the viewer may not find.",
        metadata=at_most(conversations.MAX_MEMBERS)
        | planned(Child("conversation_members", key=lambda conversation: conversation)),
        extensions=[Edge()],
    )
    async def members(self, info: Ctx) -> list[UserType]:
        ids = await conversations.MemberIds(info.context).load(self.row.id)
        return [UserType.of(user) for user in await findable_users(info.context, ids) if user is not None]

    @strawberry.field(
        description="The newest message; null when there is none, or when the viewer may not see it "
        "(a block).",
        extensions=[Edge()],
        metadata=planned(Child("conversation_last_message", key=lambda conversation: conversation)),
    )
    async def last_message(self, info: Ctx) -> MessageType | None:
        if self.row.last_message_id is None:
            return None
        row = await messages.MessageById(info.context).load(self.row.last_message_id)
        if row is None or not (await messages.visible_messages(info.context, [row]))[0]:
            return None
        return MessageType.of(row)

    @strawberry.field(
        description="Messages from others with seq above the viewer's read mark.",
        metadata=planned(Child("conversation_unread")),
    )
    async def unread_count(self, info: Ctx) -> int:
        return await conversations.UnreadCount(info.context).load(self.row.id)

    @strawberry.field(
        description="When the last message was sent, or the conversation started.",
        metadata=planned(Column("updated_at")),
    )
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @strawberry.field(
        description="Ordered by seq; `last`/`before` page back through history.",
        extensions=[Edge()],
        metadata=planned(Child("conversation_messages")),
    )
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
        key = messages.page_key(self.row.id, given(first), given(after), given(last), given(before))
        page = await messages.MessagesPage(info.context).load(key)
        return await MessageConnection.of(info.context, page)

    @strawberry.field(
        description="A conversation started by an account the viewer does not follow, not yet accepted by "
        "the viewer. Its sender cannot see whether it was read.",
        metadata=planned(Child("conversation_is_request")),
    )
    async def is_request(self, info: Ctx) -> bool:
        membership = await conversation_members.Membership(info.context).load(self.row.id)
        return membership is not None and await conversation_members.is_request(info.context, membership)

    @strawberry.field(
        description="Members who may add and remove members and rename the group (its creator first); "
        "empty for a 1:1 conversation.",
        metadata=at_most(conversations.MAX_MEMBERS)
        | planned(Child("conversation_admins", key=lambda conversation: conversation)),
        extensions=[Edge()],
    )
    async def admins(self, info: Ctx) -> list[UserType]:
        members = await conversation_members.Members(info.context).load(self.row.id)
        ids = [m.user_id for m in members if m.is_admin]
        ids.sort(key=lambda user_id: user_id != self.row.created_by)
        return [UserType.of(user) for user in await findable_users(info.context, ids) if user is not None]

    @strawberry.field(
        description="The viewer muted it: no unread badge counted, events still delivered.",
        metadata=planned(Child("conversation_muted")),
    )
    async def is_muted(self, info: Ctx) -> bool:
        membership = await conversation_members.Membership(info.context).load(self.row.id)
        return membership is not None and membership.muted


@strawberry.type(name="Message", description="A direct message in a conversation.")
class MessageType(Node):
    row: strawberry.Private[MessageRow]

    @classmethod
    def of(cls, row: MessageRow) -> MessageType:
        return cls(id=strawberry.ID(to_global_id("Message", row.id)), row=row)

    @classmethod
    async def visible(cls, ctx: RequestContext, items: Sequence[MessageType]) -> list[bool]:
        return await messages.readable_messages(ctx, [item.row for item in items])

    @strawberry.field(
        description="The conversation it was sent in.",
        extensions=[Edge()],
        metadata=planned(Child("message_conversation", key=lambda message: message.conversation_id)),
    )
    async def conversation(self, info: Ctx) -> ConversationType:
        row = await conversations.ConversationById(info.context).load(self.row.conversation_id)
        assert row is not None, "a message outlived its conversation"
        return ConversationType.of(row)

    @strawberry.field(
        description="Who sent it.",
        extensions=[Edge()],
        metadata=planned(Child("message_sender", key=lambda message: message.sender_id)),
    )
    async def sender(self, info: Ctx) -> UserType:
        row = await UserById(info.context).load(self.row.sender_id)
        assert row is not None, "a message outlived its sender"
        return UserType.of(row)

    @strawberry.field(
        description="1, 2, 3, ... within its conversation, in the order the server accepted them.",
        metadata=planned(Column("seq")),
    )
    def seq(self) -> int:
        return self.row.seq

    @strawberry.field(description="The sender's idempotency key.", metadata=planned(Column("client_id")))
    def client_id(self) -> str:
        return self.row.client_id

    @strawberry.field(
        description="The text, at most 2,000 characters; empty for a message of media alone.",
        metadata=planned(Column("body")),
    )
    def body(self) -> str:
        return self.row.body

    @strawberry.field(
        description="The story this message replies to; null when it is no reply, and once the story has "
        "expired or is not visible to the viewer.",
        extensions=[Edge()],
        metadata=planned(Child("message_reply_story", key=lambda message: message.reply_to_story_id)),
    )
    async def reply_to_story(self, info: Ctx) -> StoryType | None:
        story_id = self.row.reply_to_story_id
        if story_id is None:
            return None
        story = (await visible_stories(info.context, [story_id])).get(story_id)
        return StoryType.of(story) if story else None

    @strawberry.field(
        description="The attached photo or video; null when none.",
        metadata=planned(Child("media_by_id", key=lambda message: message.media_id)),
    )
    async def media(self, info: Ctx) -> MediaType | None:
        if self.row.media_id is None:
            return None
        row = await MediaById(info.context).load(self.row.media_id)
        return MediaType.of(row) if row else None

    @strawberry.field(description="When the server accepted it.", metadata=planned(Column("sent_at")))
    def sent_at(self) -> datetime:
        return self.row.sent_at

    @strawberry.field(
        description="A post shared into the conversation; null when it was deleted or the viewer may not "
        "see it.",
        extensions=[Edge()],
        metadata=planned(Child("message_shared_post", key=lambda message: message)),
    )
    async def shared_post(self, info: Ctx) -> PostType | None:
        post = await message_shares.shared_post(info.context, self.row)
        return PostType.of(post) if post else None

    @strawberry.field(
        description="A story shared into the conversation; null once it expired or when the viewer may not "
        "see it.",
        extensions=[Edge()],
        metadata=planned(Child("message_shared_story", key=lambda message: message)),
    )
    async def shared_story(self, info: Ctx) -> StoryType | None:
        story = await message_shares.shared_story(info.context, self.row)
        return StoryType.of(story) if story else None

    @strawberry.field(
        description="When the sender edited the body; null if never.", metadata=planned(Column("edited_at"))
    )
    def edited_at(self) -> datetime | None:
        return self.row.edited_at

    @strawberry.field(
        description="When the sender unsent it: body is then empty and media, sharedPost and sharedStory "
        "null, for everyone.",
        metadata=planned(Column("unsent_at")),
    )
    def unsent_at(self) -> datetime | None:
        return self.row.unsent_at

    @strawberry.field(
        description="One per member at most, oldest first (none from users in a blocked pair with the "
        "viewer).",
        metadata=at_most(conversations.MAX_MEMBERS) | planned(Child("message_reactions")),
        extensions=[Edge()],
    )
    async def reactions(self, info: Ctx) -> list[MessageReactionType]:
        rows = await message_changes.visible_reactions(info.context, self.row.id)
        return [MessageReactionType(row=row) for row in rows]


@strawberry.type(name="MessageReaction", description="A member's emoji on a message.")
class MessageReactionType:
    row: strawberry.Private[MessageReactionRow]

    @classmethod
    async def visible(cls, ctx: RequestContext, items: Sequence[MessageReactionType]) -> list[bool]:
        """A reaction is what its user did: shown across no block, either way."""
        return await interacting(ctx, [item.row.user_id for item in items])

    @strawberry.field(
        description="Who reacted.",
        extensions=[Edge(UserType.interacting)],
        metadata=planned(Child("reaction_user", key=lambda reaction: reaction.user_id)),
    )
    async def user(self, info: Ctx) -> UserType:
        row = await UserById(info.context).load(self.row.user_id)
        assert row is not None, "a reaction outlived its user"
        return UserType.of(row)

    @strawberry.field(description="A single emoji.", metadata=planned(Column("emoji")))
    def emoji(self) -> str:
        return self.row.emoji

    @strawberry.field(
        description="When they reacted (or last changed the emoji).", metadata=planned(Column("reacted_at"))
    )
    def reacted_at(self) -> datetime:
        return self.row.reacted_at


@strawberry.type(description="A conversation in a paged list, with the cursor of its position.")
class ConversationEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this conversation in the list; pass it as `after`.",
        metadata=planned(Pure(lambda item, ctx: item[0])),
    )
    node: ConversationType = strawberry.field(
        description="The conversation at this position.", metadata=planned(Pure(lambda item, ctx: item[1]))
    )


@strawberry.type(description="One page of conversations.")
class ConversationConnection:
    edges: list[ConversationEdge] = strawberry.field(
        description="The page's conversations, most recently active first.",
        metadata=planned(Pure(lambda page, ctx: page.items)),
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more conversations follow, and the cursor to get them.",
        metadata=planned(Pure(lambda page, ctx: page)),
    )


@strawberry.type(description="A message in a paged history, with the cursor of its position.")
class MessageEdge:
    cursor: str = strawberry.field(
        description="Opaque position of this message: pass it as `after` to page forward, as `before` to "
        "page back.",
        metadata=planned(Pure(lambda item, ctx: item[0])),
    )
    node: MessageType = strawberry.field(
        description="The message at this position.", metadata=planned(Pure(lambda item, ctx: item[1]))
    )


@strawberry.type(description="One page of a conversation's messages.")
class MessageConnection:
    edges: list[MessageEdge] = strawberry.field(
        description="The page's messages, oldest first; messages from users in a blocked pair with the "
        "viewer are left out, so a page may hold fewer than asked.",
        metadata=planned(Pure(lambda shown, ctx: shown.shown)),
    )
    # Compiled, its source is execution/batched.py `ShownPage`.
    page_info: PageInfo = strawberry.field(
        description="Whether newer (`hasNextPage`) or older (`hasPreviousPage`) messages remain, and the "
        "cursors to get them.",
        metadata=planned(Pure(lambda shown, ctx: shown.page)),
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


def given(value: T | None) -> T | None:
    """An argument the client left out arrives as UNSET: treat it as null."""
    return None if value is strawberry.UNSET else value
