"""The conversations query, its folders, the badge counts, and node(id:) for conversations and messages."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from resolvers.conversations import conversations, messages
from resolvers.conversations import requests as message_requests
from resolvers.paging import page_args
from schema.conversations.types import ConversationConnection, ConversationEdge, ConversationType, MessageType
from schema.node import After, First, PageInfo
from schema.planning import Root, planned

Ctx = Info[RequestContext, None]


@strawberry.enum(description="Where a conversation sits for the viewer.")
class ConversationFolder(Enum):
    INBOX = strawberry.enum_value(
        "INBOX", description="Conversations the viewer started, accepted, or has with accounts they follow."
    )
    REQUESTS = strawberry.enum_value(
        "REQUESTS",
        description="Conversations started by accounts the viewer does not follow (a group: when the viewer "
        "follows none of its other members), until the viewer accepts them. Their messages and live "
        "events reach the viewer; the viewer's read marks and typing reach nobody until accepted.",
    )


@strawberry.type
class ConversationQuery:
    @strawberry.field(
        description="The viewer's conversations, most recently active first.",
        metadata=planned(Root("conversations")),
    )
    async def conversations(
        self,
        info: Ctx,
        first: First = 20,
        after: After = strawberry.UNSET,
        folder: Annotated[
            ConversationFolder | None,
            strawberry.argument(description="INBOX (null too) or REQUESTS."),
        ] = ConversationFolder.INBOX,
    ) -> ConversationConnection:
        args = page_args(first, after)
        page = await conversations.conversations_page(
            info.context, args, (folder or ConversationFolder.INBOX).name
        )
        await messages.prefetch_conversations(info.context, [row for _, row in page.items])
        edges = [ConversationEdge(cursor=cursor, node=ConversationType.of(row)) for cursor, row in page.items]
        return ConversationConnection(edges=edges, page_info=PageInfo.of(page))

    @strawberry.field(
        description="INBOX conversations with messages from others above the viewer's read mark, muted ones "
        "left out: the number to badge the inbox with.",
        metadata=planned(Root("unread_conversation_count")),
    )
    async def unread_conversation_count(self, info: Ctx) -> int:
        return await message_requests.unread_conversation_count(info.context)

    @strawberry.field(
        description="Conversations in the viewer's REQUESTS folder: the number to show on it.",
        metadata=planned(Root("message_request_count")),
    )
    async def message_request_count(self, info: Ctx) -> int:
        return await message_requests.request_count(info.context)


async def conversation_node(ctx: RequestContext, conversation_id: int) -> ConversationType | None:
    row = await conversations.visible_conversation(ctx, conversation_id)
    return ConversationType.of(row) if row else None


async def message_node(ctx: RequestContext, message_id: int) -> MessageType | None:
    row = await messages.visible_message(ctx, message_id)
    return MessageType.of(row) if row else None
