"""Mutations on a conversation's membership: message requests, group admin, mute."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.context import RequestContext
from core.ids import to_global_id
from resolvers.conversations import conversations
from resolvers.conversations import groups as group_admin
from resolvers.conversations import requests as message_requests
from schema.conversations.mutations import ConversationId, conversation_id_of
from schema.conversations.types import ConversationType, given
from schema.node import decode_id

Ctx = Info[RequestContext, None]


@strawberry.type
class ConversationMembershipMutation:
    @strawberry.mutation(
        description="Moves a message request to the viewer's INBOX: from then on their read marks and "
        "typing reach the others. Accepting a conversation already there changes nothing. Sending a "
        "message in a request accepts it too."
    )
    async def accept_message_request(self, info: Ctx, conversation_id: ConversationId) -> ConversationType:
        row = await message_requests.accept(info.context, conversation_id_of(conversation_id))
        return ConversationType.of(row)

    @strawberry.mutation(
        description="Removes the request for the viewer; the sender is not told. The conversation is then "
        "NOT_FOUND for the viewer and nothing of it reaches them, until they start a conversation with "
        "the sender themselves. Declining again answers the same; BAD_USER_INPUT for a conversation that "
        "is no request."
    )
    async def decline_message_request(self, info: Ctx, conversation_id: ConversationId) -> strawberry.ID:
        declined = await message_requests.decline(info.context, conversation_id_of(conversation_id))
        return strawberry.ID(to_global_id("Conversation", declined))

    @strawberry.mutation(
        description="Group admins only; members the viewer may not message are refused. Accounts already "
        "in it are skipped. Every member, the new ones included, gets MembersChanged. FORBIDDEN for a "
        "member who is no admin; BAD_USER_INPUT for a 1:1 conversation, beyond 32 members, or for an "
        "account the viewer blocked; NOT_FOUND for one the viewer cannot find."
    )
    async def add_conversation_members(
        self,
        info: Ctx,
        conversation_id: ConversationId,
        user_ids: Annotated[list[strawberry.ID], strawberry.argument(description="The accounts to add.")],
    ) -> ConversationType:
        ids = [decode_id(user_id, "User") for user_id in user_ids]
        row = await group_admin.add_members(info.context, conversation_id_of(conversation_id), ids)
        return ConversationType.of(row)

    @strawberry.mutation(
        description="Group admins only. A removed member stops receiving the conversation's events at once, "
        "and the conversation and its messages become NOT_FOUND for them. Removing someone who is not a "
        "member changes nothing; the others get MembersChanged."
    )
    async def remove_conversation_member(
        self,
        info: Ctx,
        conversation_id: ConversationId,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The member to remove.")],
    ) -> ConversationType:
        row = await group_admin.remove_member(
            info.context, conversation_id_of(conversation_id), decode_id(user_id, "User")
        )
        return ConversationType.of(row)

    @strawberry.mutation(
        description="The viewer leaves a group (BAD_USER_INPUT for a 1:1 conversation): it becomes NOT_FOUND "
        "for them and the others get MembersChanged. When the last admin leaves, the longest member "
        "becomes admin."
    )
    async def leave_conversation(self, info: Ctx, conversation_id: ConversationId) -> strawberry.ID:
        left = await group_admin.leave(info.context, conversation_id_of(conversation_id))
        return strawberry.ID(to_global_id("Conversation", left))

    @strawberry.mutation(
        description="Group admins only: a new title (at most 100 characters), or null to remove it. Members "
        "get MembersChanged (with no one added or removed)."
    )
    async def rename_conversation(
        self,
        info: Ctx,
        conversation_id: ConversationId,
        title: Annotated[
            str | None, strawberry.argument(description="The new title; null removes it.")
        ] = strawberry.UNSET,
    ) -> ConversationType:
        row = await group_admin.rename(info.context, conversation_id_of(conversation_id), given(title))
        return ConversationType.of(row)

    @strawberry.mutation(
        description="Mutes or unmutes it for the viewer: a muted conversation counts in no unread badge "
        "(`unreadConversationCount`); its events are still delivered."
    )
    async def set_conversation_muted(
        self,
        info: Ctx,
        conversation_id: ConversationId,
        muted: Annotated[bool, strawberry.argument(description="True to mute, false to unmute.")],
    ) -> ConversationType:
        row = await conversations.set_muted(info.context, conversation_id_of(conversation_id), muted)
        return ConversationType.of(row)
