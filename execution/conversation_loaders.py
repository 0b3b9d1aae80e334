"""Loaders of the conversations' plan (schema/conversations/types.py declares them): the
conversations page, a conversation's members, admins, last message, flags and messages page, and
a message's conversation, story, shares and reactions.

Each computes what the field's resolver computes, with the same functions of resolvers/, then the
edge's rule (execution/batched.py `Each`): one call per field for every parent on the page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from core.context import RequestContext
from execution import message_page, rows
from execution.batched import Each, Loaded, Rules, ShownPage, users_on
from execution.loaders import ChildLoader, RootLoader
from models import Conversation, Message
from resolvers.accounts.users import findable_users
from resolvers.conversations import changes as message_changes
from resolvers.conversations import conversations, messages
from resolvers.conversations import members as conversation_members
from resolvers.conversations import requests as message_requests
from resolvers.conversations import shares as message_shares
from resolvers.paging import Page, page_args
from resolvers.stories.stories import visible_stories


async def _conversations(ctx: RequestContext, args: dict[str, Any]) -> Page[Conversation]:
    folder = args.get("folder")
    page = await conversations.conversations_page(
        ctx, page_args(args.get("first"), args.get("after")), folder.name if folder else "INBOX"
    )
    await messages.prefetch_conversations(ctx, [row for _, row in page.items])
    return page


async def _members(ctx: RequestContext, conversation: Conversation) -> list[Any]:
    ids = await conversations.MemberIds(ctx).load(conversation.id)
    return [user for user in await findable_users(ctx, ids) if user is not None]


async def _admins(ctx: RequestContext, conversation: Conversation) -> list[Any]:
    members = await conversation_members.Members(ctx).load(conversation.id)
    ids = [member.user_id for member in members if member.is_admin]
    ids.sort(key=lambda user_id: user_id != conversation.created_by)
    return [user for user in await findable_users(ctx, ids) if user is not None]


async def _last_message(ctx: RequestContext, conversation: Conversation) -> Message | None:
    if conversation.last_message_id is None:
        return None
    row = await messages.MessageById(ctx).load(conversation.last_message_id)
    if row is None or not (await messages.visible_messages(ctx, [row]))[0]:
        return None
    return row


async def _is_request(ctx: RequestContext, conversation_id: int) -> bool:
    membership = await conversation_members.Membership(ctx).load(conversation_id)
    return membership is not None and await conversation_members.is_request(ctx, membership)


def _muted(membership: Any) -> bool:
    return membership is not None and bool(membership.muted)


class MessagePages(ChildLoader):
    """`Conversation.messages`: each conversation's page by the field's arguments, in the
    statements of `MessagesPage`; messages shown as `MessageConnection.of` and its edge show them."""

    async def load(self, ctx: RequestContext, keys: Sequence[int], args: dict[str, Any]) -> Mapping[int, Any]:
        page_keys = [
            messages.page_key(key, args.get("first"), args.get("after"), args.get("last"), args.get("before"))
            for key in keys
        ]
        known = message_page.known_pages(ctx)
        if all((key, page_key) in known for key, page_key in zip(keys, page_keys, strict=True)):
            return {key: known[key, page_key] for key, page_key in zip(keys, page_keys, strict=True)}
        pages = await messages.MessagesPage(ctx).load_many(page_keys)
        rows = [row for page in pages for _, row in page.items]
        visible, readable = await asyncio.gather(
            messages.visible_messages(ctx, rows), Rules.message(ctx, rows)
        )
        shown = {id(row) for row, a, b in zip(rows, visible, readable, strict=True) if a and b}
        return {
            key: ShownPage(page, [(cursor, row) for cursor, row in page.items if id(row) in shown])
            for key, page in zip(keys, pages, strict=True)
        }


async def _conversation_node(ctx: RequestContext, conversation_id: int) -> Conversation | None:
    """`node(id:)` of a conversation: on PostgreSQL, with the messages page the document asks for
    under it (and its senders) in the same statement (execution/message_page.py)."""
    arguments = rows.below_arguments(ctx, "conversation_messages")
    if arguments is None or ctx.services.db.is_sqlite:
        return await conversations.visible_conversation(ctx, conversation_id)
    below = frozenset(
        name for name in ("message_sender", "media_by_id") if rows.below_arguments(ctx, name) is not None
    )
    found: Conversation | None = await message_page.conversation_with_page(
        ctx, conversation_id, arguments, below
    )
    return found


class Senders(ChildLoader):
    """`Message.sender`: the senders read with the page and `clear` (`interacts`, which implies
    `findable`) without a statement; any other as `users_on(Rules.user)`."""

    each = users_on(Rules.user)

    async def load(self, ctx: RequestContext, keys: Sequence[int], args: dict[str, Any]) -> Mapping[int, Any]:
        known = rows.known_users(ctx)
        found = {key: known[key] for key in keys if key in known and known[key].clear}
        rest = [key for key in keys if key not in found]
        if rest:
            found.update(await self.each.load(ctx, rest, args))
        return found


async def _conversation(ctx: RequestContext, conversation_id: int) -> Conversation | None:
    return await conversations.ConversationById(ctx).load(conversation_id)


async def _reply_story(ctx: RequestContext, story_id: int) -> Any:
    return (await visible_stories(ctx, [story_id])).get(story_id)


async def _unread_conversations(ctx: RequestContext, args: dict[str, Any]) -> int:
    return await message_requests.unread_conversation_count(ctx)


async def _request_count(ctx: RequestContext, args: dict[str, Any]) -> int:
    return await message_requests.request_count(ctx)


ROOTS: dict[str, RootLoader] = {
    "conversations": _conversations,
    "unread_conversation_count": _unread_conversations,
    "message_request_count": _request_count,
}
CHILDREN: dict[str, ChildLoader] = {
    "conversation_members": Each(_members, Rules.user, default=()),
    "conversation_admins": Each(_admins, Rules.user, default=()),
    "conversation_last_message": Each(_last_message, Rules.message),
    "conversation_unread": Loaded(conversations.UnreadCount, 0),
    "conversation_is_request": Each(_is_request, default=False),
    "conversation_muted": Loaded(conversation_members.Membership, False, _muted),
    "conversation_messages": MessagePages(),
    "message_conversation": Each(_conversation, Rules.conversation),
    "message_sender": Senders(),
    "message_reply_story": Each(_reply_story, Rules.story),
    "message_shared_post": Each(message_shares.shared_post, Rules.post),
    "message_shared_story": Each(message_shares.shared_story, Rules.story),
    "message_reactions": Each(message_changes.visible_reactions, Rules.interacting_reaction, default=()),
    "reaction_user": users_on(Rules.interacting_user),
}
NODES: dict[str, Any] = {
    "Conversation": _conversation_node,
    "Message": messages.visible_message,
}
