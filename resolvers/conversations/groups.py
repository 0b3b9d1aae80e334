"""Running a group: adding and removing members, leaving, renaming.

The creator is the first admin. Each change holds the conversation's row (as a send does), so it
takes its place after a seq: `members_changed` carries that seq, and every stream delivers the
messages before it first. A member who leaves or is removed loses the row that made them one:
the conversation, its messages and its events are NOT_FOUND for them from that commit on.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, update

from core.context import RequestContext
from core.errors import BadInput, Forbidden, NotFound
from core.unit_of_work import UnitOfWork
from models import Conversation, ConversationMember
from resolvers.conversations.conversations import (
    MAX_MEMBERS,
    MAX_TITLE,
    check_can_message,
    member_conversation,
    new_members,
)
from resolvers.conversations.members import DECLINED, MemberInfo, Members, Membership, followers_among
from resolvers.loader import unique
from resolvers.text import clean_line
from subscriptions import members_changed


async def _hold(work: UnitOfWork, conversation_id: int) -> int:
    """Lock the conversation's row until commit (sends wait) and return its last seq."""
    seq = await work.session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq)
        .returning(Conversation.last_seq)
    )
    if seq is None:
        raise NotFound("Conversation")
    return int(seq)


async def _group(ctx: RequestContext, conversation_id: int, *, admin: bool) -> Conversation:
    """The group, if the viewer is a member (NOT_FOUND) of a group (BAD_USER_INPUT) and, when
    `admin`, one of its admins (FORBIDDEN)."""
    conversation = await member_conversation(ctx, conversation_id)
    if not conversation.is_group:
        raise BadInput("A 1:1 conversation has no members to change; start a group.", field="conversationId")
    membership = await Membership(ctx).load(conversation_id)
    if admin and (membership is None or not membership.is_admin):
        raise Forbidden("Only the group's admins can do this.")
    return conversation


def _publish(
    work: UnitOfWork, conversation_id: int, seq: int, to: Sequence[int], added: list[int], removed: list[int]
) -> None:
    work.publish(to, members_changed(conversation_id, seq, added, removed))


async def add_members(ctx: RequestContext, conversation_id: int, user_ids: Sequence[int]) -> Conversation:
    """Admins only; each new member must be someone the viewer may message. Members already in it
    are skipped, so a retry changes nothing."""
    viewer = ctx.require_viewer()
    wanted = [user_id for user_id in unique(user_ids) if user_id != viewer]
    if not wanted:
        raise BadInput("Name at least one account to add.", field="userIds")
    if len(wanted) >= MAX_MEMBERS:
        raise BadInput(f"A conversation has at most {MAX_MEMBERS} members.", field="userIds")
    async with ctx.write() as work:
        seq = await _hold(work, conversation_id)
        await work.lock_pairs(viewer, wanted)  # a block in flight commits first, or waits
        conversation = await _group(ctx, conversation_id, admin=True)
        current = await Members(ctx).load(conversation_id)
        present = {member.user_id for member in current}
        added = [user_id for user_id in wanted if user_id not in present]
        for user_id in added:
            await check_can_message(ctx, user_id, field="userIds")
        if not added:
            return conversation
        if len(current) + len(added) > MAX_MEMBERS:
            raise BadInput(f"A conversation has at most {MAX_MEMBERS} members.", field="userIds")
        everyone = [*present, *added]
        following = await followers_among(work.session, added, everyone)
        work.session.add_all(new_members(conversation, added, following, seq, ctx.services.clock.now()))
        _publish(work, conversation_id, seq, everyone, added, [])
    return await member_conversation(ctx, conversation_id)


async def remove_member(ctx: RequestContext, conversation_id: int, user_id: int) -> Conversation:
    """Admins only, of someone else (leaving is `leave`). Removing a non-member changes nothing."""
    viewer = ctx.require_viewer()
    if user_id == viewer:
        raise BadInput("To leave the group, use leaveConversation.", field="userId")
    async with ctx.write() as work:
        seq = await _hold(work, conversation_id)
        conversation = await _group(ctx, conversation_id, admin=True)
        current = await Members(ctx).load(conversation_id)
        if user_id not in {member.user_id for member in current}:
            return conversation
        await _delete_member(work, conversation_id, user_id)
        # The removed member's streams are told too, only so they forget the conversation.
        _publish(work, conversation_id, seq, [m.user_id for m in current], [], [user_id])
    return await member_conversation(ctx, conversation_id)


async def leave(ctx: RequestContext, conversation_id: int) -> int:
    """Any member of a group. The last admin to leave hands the group to its longest member."""
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        seq = await _hold(work, conversation_id)
        await _group(ctx, conversation_id, admin=False)
        current = await Members(ctx).load(conversation_id)
        await _delete_member(work, conversation_id, viewer)
        staying = [m for m in current if m.user_id != viewer]
        await _keep_an_admin(work, conversation_id, staying)
        _publish(work, conversation_id, seq, [m.user_id for m in current], [], [viewer])
    return conversation_id


async def _keep_an_admin(work: UnitOfWork, conversation_id: int, staying: list[MemberInfo]) -> None:
    if any(m.is_admin for m in staying):
        return
    # `Members` lists the longest-standing first; a member who declined the group is not in it.
    heir = next((m for m in staying if m.state != DECLINED), None)
    if heir is not None:
        await work.session.execute(
            update(ConversationMember)
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.user_id == heir.user_id,
            )
            .values(is_admin=True)
        )


async def _delete_member(work: UnitOfWork, conversation_id: int, user_id: int) -> None:
    await work.session.execute(
        delete(ConversationMember).where(
            ConversationMember.conversation_id == conversation_id, ConversationMember.user_id == user_id
        )
    )


async def rename(ctx: RequestContext, conversation_id: int, title: str | None) -> Conversation:
    """Admins only; null or blank removes the title. The same title again changes nothing."""
    shown = clean_line(title, field="title", max_length=MAX_TITLE) if title else ""
    async with ctx.write() as work:
        seq = await _hold(work, conversation_id)
        conversation = await _group(ctx, conversation_id, admin=True)
        if (conversation.title or "") == shown:
            return conversation
        await work.session.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(title=shown or None)
        )
        members = await Members(ctx).load(conversation_id)
        _publish(work, conversation_id, seq, [m.user_id for m in members], [], [])
    return await member_conversation(ctx, conversation_id)
