"""Conversations: starting them, listing them, membership, read marks and typing."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import and_, func, select, update

from core.context import RequestContext, Services
from core.errors import BadInput, NotFound
from core.unit_of_work import UnitOfWork, publish_to_users
from models import Conversation, ConversationMember, Message
from resolvers.accounts.users import findable_user, relationship
from resolvers.conversations.members import (
    ACCEPTED,
    DECLINED,
    PENDING,
    MemberIds,
    Membership,
    followers_among,
    is_request,
    is_request_sql,
)
from resolvers.loader import RequestLoader, unique
from resolvers.paging import Page, PageArgs, page_from_rows
from resolvers.text import clean_line
from resolvers.visibility import can_interact
from subscriptions import conversation_read, typing_changed

log = logging.getLogger("ephemera.conversations")

__all__ = ["MemberIds", "Membership"]  # re-exported: the loaders most callers need with these

MAX_MEMBERS = 32
MAX_TITLE = 100


class ConversationById(RequestLoader[int, Conversation | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Conversation | None]:
        async with self.ctx.read() as session:
            rows = await session.scalars(select(Conversation).where(Conversation.id.in_(unique(keys))))
            return {row.id: row for row in rows}

    def default(self, key: int) -> Conversation | None:
        return None


class UnreadCount(RequestLoader[int, int]):
    """Messages from others above the viewer's read mark, for many conversations in one statement."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, int]:
        viewer = self.ctx.viewer_id
        if viewer is None:
            return {}
        member = ConversationMember
        stmt = (
            select(member.conversation_id, func.count(Message.id))
            .join(
                Message,
                and_(
                    Message.conversation_id == member.conversation_id,
                    Message.seq > member.last_read_seq,
                    Message.sender_id != viewer,
                ),
            )
            .where(member.user_id == viewer, member.conversation_id.in_(unique(keys)))
            .group_by(member.conversation_id)
        )
        async with self.ctx.read() as session:
            return {cid: count for cid, count in (await session.execute(stmt)).all()}

    def default(self, key: int) -> int:
        return 0


async def member_conversation(ctx: RequestContext, conversation_id: int) -> Conversation:
    """The conversation if the viewer is a member; NOT_FOUND for anyone else."""
    ctx.require_viewer()
    membership = await Membership(ctx).load(conversation_id)
    conversation = await ConversationById(ctx).load(conversation_id) if membership else None
    if conversation is None:
        raise NotFound("Conversation")
    return conversation


async def member_of(ctx: RequestContext, conversation_ids: Sequence[int]) -> list[bool]:
    """Whether the viewer is a member of each conversation (nobody else sees one)."""
    if ctx.viewer_id is None:
        return [False] * len(conversation_ids)
    return [row is not None for row in await Membership(ctx).load_many(conversation_ids)]


async def visible_conversation(ctx: RequestContext, conversation_id: int) -> Conversation | None:
    if ctx.viewer_id is None:
        return None
    try:
        return await member_conversation(ctx, conversation_id)
    except NotFound:
        return None


async def check_can_message(ctx: RequestContext, user_id: int, field: str = "memberIds") -> None:
    """Someone the viewer may start a conversation with: findable, and no block either way."""
    if await findable_user(ctx, user_id) is None:
        raise NotFound("User")
    if not can_interact(await relationship(ctx, user_id)):
        raise BadInput("You cannot message an account you blocked.", field=field)


async def start_conversation(
    ctx: RequestContext, member_ids: Iterable[int], title: str | None
) -> Conversation:
    viewer = ctx.require_viewer()
    listed = list(member_ids)
    others = [user_id for user_id in unique(listed) if user_id != viewer]
    if not others:
        raise BadInput("Name at least one other member.", field="memberIds")
    if len(listed) > MAX_MEMBERS or len(others) + 1 > MAX_MEMBERS:
        raise BadInput(f"A conversation has at most {MAX_MEMBERS} members.", field="memberIds")
    shown = clean_line(title, field="title", max_length=MAX_TITLE) if title else ""
    if len(others) == 1 and shown:
        raise BadInput("A 1:1 conversation has no title; add a third member for a group.", field="title")
    async with ctx.write() as work:
        await work.lock_pairs(viewer, others)
        for user_id in others:
            await check_can_message(ctx, user_id)
        if len(others) == 1:
            return await direct_conversation(ctx, work, others[0])
        return await _create(
            ctx, work, [viewer, *others], is_group=True, title=shown or None, direct_key=None
        )


async def direct_conversation(ctx: RequestContext, work: UnitOfWork, other: int) -> Conversation:
    """The viewer's 1:1 conversation with `other`, created if needed. Call with the pair locked
    (`work.lock_pair`) and messaging checked: the lock makes concurrent creations of it queue."""
    viewer = ctx.require_viewer()
    key = f"{min(viewer, other)}:{max(viewer, other)}"
    existing: Conversation | None = await work.session.scalar(
        select(Conversation).where(Conversation.direct_key == key)
    )
    if existing is not None:
        # The viewer starts (or replies in) it: a request they had, or had declined, is accepted.
        await work.session.execute(
            update(ConversationMember)
            .where(
                ConversationMember.conversation_id == existing.id,
                ConversationMember.user_id == viewer,
                ConversationMember.state != ACCEPTED,
            )
            .values(state=ACCEPTED)
        )
        return existing
    return await _create(ctx, work, [viewer, other], is_group=False, title=None, direct_key=key)


async def _create(
    ctx: RequestContext,
    work: UnitOfWork,
    members: list[int],
    *,
    is_group: bool,
    title: str | None,
    direct_key: str | None,
) -> Conversation:
    services = ctx.services
    now = services.clock.now()
    conversation_id = services.ids.next_id()
    conversation = Conversation(
        id=conversation_id,
        is_group=is_group,
        title=title,
        direct_key=direct_key,
        created_by=members[0],
        last_seq=0,
        last_message_id=None,
        activity_id=conversation_id,
        created_at=now,
        updated_at=now,
    )
    work.session.add(conversation)
    await work.session.flush()
    work.session.add_all(
        new_members(
            conversation, members[1:], await followers_among(work.session, members[1:], members), 0, now
        )
    )
    work.session.add(
        ConversationMember(
            conversation_id=conversation_id,
            user_id=members[0],
            last_read_seq=0,
            joined_at=now,
            joined_seq=0,
            state=ACCEPTED,
            is_admin=is_group,
            muted=False,
        )
    )
    return conversation


def new_members(
    conversation: Conversation, user_ids: Iterable[int], following: set[int], seq: int, now: datetime
) -> list[ConversationMember]:
    """Rows for members someone else added: a message request for each who follows nobody in it."""
    return [
        ConversationMember(
            conversation_id=conversation.id,
            user_id=user_id,
            last_read_seq=seq,
            joined_at=now,
            joined_seq=seq,
            state=ACCEPTED if user_id in following else PENDING,
            is_admin=False,
            muted=False,
        )
        for user_id in user_ids
    ]


async def conversations_page(
    ctx: RequestContext, args: PageArgs, folder: str = "INBOX"
) -> Page[Conversation]:
    """The viewer's conversations of one folder, most recently active first (keyset on the activity id)."""
    viewer = ctx.require_viewer()
    request = is_request_sql(ConversationMember, viewer)
    stmt = (
        select(Conversation, ConversationMember)
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(
            ConversationMember.user_id == viewer,
            ConversationMember.state != DECLINED,
            request if folder == "REQUESTS" else ~request,
        )
        .order_by(Conversation.activity_id.desc())
        .limit(args.first + 1)
    )
    if args.after is not None:
        stmt = stmt.where(Conversation.activity_id < args.after)
    async with ctx.read() as session:
        found = [(row, membership) for row, membership in (await session.execute(stmt)).all()]
    for row, membership in found:
        ConversationById(ctx).prime(row.id, row)
        Membership(ctx).prime(row.id, membership)
    return page_from_rows([(row.activity_id, row) for row, _ in found], args)


async def last_seqs(services: Services, user_id: int) -> dict[int, int]:
    """Each of the user's conversations with its highest seq: where a live stream starts."""
    stmt = (
        select(Conversation.id, Conversation.last_seq)
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(ConversationMember.user_id == user_id, ConversationMember.state != DECLINED)
    )
    async with services.db.read() as session:
        return {cid: seq for cid, seq in (await session.execute(stmt)).all()}


async def mark_read(ctx: RequestContext, conversation_id: int, up_to_seq: int) -> Conversation:
    """Move the viewer's read mark forward to up_to_seq (capped at the last seq); never back."""
    viewer = ctx.require_viewer()
    if up_to_seq < 0:
        raise BadInput("`upToSeq` cannot be negative.", field="upToSeq")
    async with ctx.write() as work:
        conversation = await member_conversation(ctx, conversation_id)
        target = min(up_to_seq, conversation.last_seq)
        result = await work.session.execute(
            update(ConversationMember)
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.user_id == viewer,
                ConversationMember.last_read_seq < target,
            )
            .values(last_read_seq=target)
        )
        membership = await Membership(ctx).load(conversation_id)
        # A request's read marks reach nobody until it is accepted.
        if getattr(result, "rowcount", 0) and membership and not await is_request(ctx, membership):
            members = await MemberIds(ctx).load(conversation_id)
            work.publish(members, conversation_read(conversation_id, viewer, target))
    return await member_conversation(ctx, conversation_id)


async def set_typing(ctx: RequestContext, conversation_id: int, is_typing: bool) -> bool:
    """Tell the other members; pub/sub only. Subscribers let it lapse after TYPING_TTL_SECONDS."""
    viewer = ctx.require_viewer()
    await member_conversation(ctx, conversation_id)
    membership = await Membership(ctx).load(conversation_id)
    if membership is None or await is_request(ctx, membership):
        return True  # a request's typing reaches nobody until it is accepted
    members = await MemberIds(ctx).load(conversation_id)
    others = [user_id for user_id in members if user_id != viewer]
    await publish_to_users(ctx.services, others, typing_changed(conversation_id, viewer, is_typing))
    return True


async def set_muted(ctx: RequestContext, conversation_id: int, muted: bool) -> Conversation:
    """The viewer's mute of one conversation; setting it again changes nothing."""
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        await member_conversation(ctx, conversation_id)
        await work.session.execute(
            update(ConversationMember)
            .where(
                ConversationMember.conversation_id == conversation_id, ConversationMember.user_id == viewer
            )
            .values(muted=muted)
        )
    return await member_conversation(ctx, conversation_id)
