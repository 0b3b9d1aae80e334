"""Message requests: accepting, declining, and the counts a client badges."""

from __future__ import annotations

from sqlalchemy import and_, func, select, update

from core.context import RequestContext
from core.errors import BadInput, NotFound
from models import Conversation, ConversationMember, Message
from resolvers.conversations.conversations import member_conversation
from resolvers.conversations.members import (
    ACCEPTED,
    DECLINED,
    PENDING,
    Membership,
    is_request,
    is_request_sql,
)


async def accept(ctx: RequestContext, conversation_id: int) -> Conversation:
    """Moves a request to the viewer's inbox; accepting what is already there changes nothing."""
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        await member_conversation(ctx, conversation_id)
        await work.session.execute(
            update(ConversationMember)
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.user_id == viewer,
                ConversationMember.state == PENDING,
            )
            .values(state=ACCEPTED)
        )
    return await member_conversation(ctx, conversation_id)


async def decline(ctx: RequestContext, conversation_id: int) -> int:
    """Removes a request for the viewer alone; the others are not told (the row stays, DECLINED, so
    the member list they see does not change). Declining again answers the same."""
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        state = await work.session.scalar(
            select(ConversationMember.state).where(
                ConversationMember.conversation_id == conversation_id, ConversationMember.user_id == viewer
            )
        )
        if state is None:
            raise NotFound("Conversation")
        if state == DECLINED:
            return conversation_id
        membership = await Membership(ctx).load(conversation_id)
        if membership is None or not await is_request(ctx, membership):
            raise BadInput("This conversation is not a message request.", field="conversationId")
        await work.session.execute(
            update(ConversationMember)
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.user_id == viewer,
                ConversationMember.state == PENDING,
            )
            .values(state=DECLINED)
        )
    return conversation_id


async def request_count(ctx: RequestContext) -> int:
    """Conversations in the viewer's REQUESTS folder."""
    viewer = ctx.require_viewer()
    member = ConversationMember
    stmt = (
        select(func.count())
        .select_from(member)
        .where(member.user_id == viewer, is_request_sql(member, viewer))
    )
    async with ctx.read() as session:
        return int(await session.scalar(stmt) or 0)


async def unread_conversation_count(ctx: RequestContext) -> int:
    """INBOX conversations with a message from someone else above the viewer's read mark, muted
    ones left out: the inbox badge."""
    viewer = ctx.require_viewer()
    member = ConversationMember
    unread = (
        select(Message.id)
        .where(
            Message.conversation_id == member.conversation_id,
            Message.seq > member.last_read_seq,
            Message.sender_id != viewer,
        )
        .exists()
    )
    stmt = (
        select(func.count())
        .select_from(member)
        .where(
            and_(
                member.user_id == viewer,
                member.state != DECLINED,
                member.muted.is_(False),
                ~is_request_sql(member, viewer),
                unread,
            )
        )
    )
    async with ctx.read() as session:
        return int(await session.scalar(stmt) or 0)
