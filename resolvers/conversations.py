"""Conversations: starting them, listing them, membership, read marks and typing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError

from core.context import RequestContext, Services
from core.errors import BadInput, NotFound
from models import Conversation, ConversationMember, Message
from resolvers.loader import RequestLoader, unique
from resolvers.paging import Page, PageArgs, page_from_rows
from resolvers.text import clean_line
from resolvers.users import findable_user, relationship
from resolvers.visibility import can_interact
from subscriptions import PublishFailed, conversation_read, typing_changed, user_channel
from subscriptions.events import EventPayload

log = logging.getLogger("ephemera.conversations")

MAX_MEMBERS = 32
MAX_TITLE = 100


class ConversationById(RequestLoader[int, Conversation | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Conversation | None]:
        async with self.ctx.read() as session:
            rows = await session.scalars(select(Conversation).where(Conversation.id.in_(unique(keys))))
            return {row.id: row for row in rows}

    def default(self, key: int) -> Conversation | None:
        return None


class Membership(RequestLoader[int, ConversationMember | None]):
    """The viewer's membership row (with its read mark) in each conversation, or None."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, ConversationMember | None]:
        viewer = self.ctx.viewer_id
        if viewer is None:
            return {}
        stmt = select(ConversationMember).where(
            ConversationMember.user_id == viewer, ConversationMember.conversation_id.in_(unique(keys))
        )
        async with self.ctx.read() as session:
            return {row.conversation_id: row for row in await session.scalars(stmt)}

    def default(self, key: int) -> ConversationMember | None:
        return None


class MemberIds(RequestLoader[int, list[int]]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, list[int]]:
        stmt = (
            select(ConversationMember.conversation_id, ConversationMember.user_id)
            .where(ConversationMember.conversation_id.in_(unique(keys)))
            .order_by(ConversationMember.joined_at, ConversationMember.user_id)
        )
        found: dict[int, list[int]] = {}
        async with self.ctx.read() as session:
            for conversation_id, user_id in (await session.execute(stmt)).all():
                found.setdefault(conversation_id, []).append(user_id)
        return found

    def default(self, key: int) -> list[int]:
        return []


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


async def visible_conversation(ctx: RequestContext, conversation_id: int) -> Conversation | None:
    if ctx.viewer_id is None:
        return None
    try:
        return await member_conversation(ctx, conversation_id)
    except NotFound:
        return None


async def check_can_message(ctx: RequestContext, user_id: int) -> None:
    """Someone the viewer may start a conversation with: findable, and no block either way."""
    if await findable_user(ctx, user_id) is None:
        raise NotFound("User")
    if not can_interact(await relationship(ctx, user_id)):
        raise BadInput("You cannot message an account you blocked.", field="memberIds")


async def start_conversation(
    ctx: RequestContext, member_ids: Iterable[int], title: str | None
) -> Conversation:
    viewer = ctx.require_viewer()
    others = [user_id for user_id in unique(member_ids) if user_id != viewer]
    if not others:
        raise BadInput("Name at least one other member.", field="memberIds")
    if len(others) + 1 > MAX_MEMBERS:
        raise BadInput(f"A conversation has at most {MAX_MEMBERS} members.", field="memberIds")
    shown = clean_line(title, field="title", max_length=MAX_TITLE) if title else ""
    for user_id in others:
        await check_can_message(ctx, user_id)
    if len(others) == 1:
        if shown:
            raise BadInput("A 1:1 conversation has no title; add a third member for a group.", field="title")
        return await _direct(ctx, others[0])
    return await _create(ctx, [viewer, *others], is_group=True, title=shown or None, direct_key=None)


async def direct_conversation(ctx: RequestContext, other_user_id: int) -> Conversation:
    """The viewer's 1:1 conversation with that user, created if needed (blocks refuse)."""
    viewer = ctx.require_viewer()
    if other_user_id == viewer:
        raise BadInput("Name at least one other member.", field="memberIds")
    await check_can_message(ctx, other_user_id)
    return await _direct(ctx, other_user_id)


async def _direct(ctx: RequestContext, other: int) -> Conversation:
    viewer = ctx.require_viewer()
    key = f"{min(viewer, other)}:{max(viewer, other)}"
    existing = await _by_direct_key(ctx.services, key)
    if existing is not None:
        return existing
    try:
        return await _create(ctx, [viewer, other], is_group=False, title=None, direct_key=key)
    except IntegrityError:
        # Both started it at once: the other request's conversation won.
        found = await _by_direct_key(ctx.services, key)
        if found is None:
            raise
        return found


async def _by_direct_key(services: Services, key: str) -> Conversation | None:
    async with services.db.read() as session:
        found: Conversation | None = await session.scalar(
            select(Conversation).where(Conversation.direct_key == key)
        )
        return found


async def _create(
    ctx: RequestContext, members: list[int], *, is_group: bool, title: str | None, direct_key: str | None
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
    async with services.db.write() as session:
        session.add(conversation)
        await session.flush()
        session.add_all(
            ConversationMember(
                conversation_id=conversation_id, user_id=user_id, last_read_seq=0, joined_at=now
            )
            for user_id in members
        )
    ctx.forget_loaded()
    return conversation


async def conversations_page(ctx: RequestContext, args: PageArgs) -> Page[Conversation]:
    """The viewer's conversations, most recently active first (keyset on the activity id)."""
    viewer = ctx.require_viewer()
    stmt = (
        select(Conversation)
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(ConversationMember.user_id == viewer)
        .order_by(Conversation.activity_id.desc())
        .limit(args.first + 1)
    )
    if args.after is not None:
        stmt = stmt.where(Conversation.activity_id < args.after)
    async with ctx.read() as session:
        rows = list(await session.scalars(stmt))
    loader = ConversationById(ctx)
    for row in rows:
        loader.prime(row.id, row)
    return page_from_rows([(row.activity_id, row) for row in rows], args)


async def last_seqs(services: Services, user_id: int) -> dict[int, int]:
    """Each of the user's conversations with its highest seq: where a live stream starts."""
    stmt = (
        select(Conversation.id, Conversation.last_seq)
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(ConversationMember.user_id == user_id)
    )
    async with services.db.read() as session:
        return {cid: seq for cid, seq in (await session.execute(stmt)).all()}


async def mark_read(ctx: RequestContext, conversation_id: int, up_to_seq: int) -> Conversation:
    """Move the viewer's read mark forward to up_to_seq (capped at the last seq); never back."""
    viewer = ctx.require_viewer()
    if up_to_seq < 0:
        raise BadInput("`upToSeq` cannot be negative.", field="upToSeq")
    conversation = await member_conversation(ctx, conversation_id)
    target = min(up_to_seq, conversation.last_seq)
    async with ctx.services.db.write() as session:
        result = await session.execute(
            update(ConversationMember)
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.user_id == viewer,
                ConversationMember.last_read_seq < target,
            )
            .values(last_read_seq=target)
        )
    ctx.forget_loaded()
    if getattr(result, "rowcount", 0):
        members = await MemberIds(ctx).load(conversation_id)
        await publish(ctx.services, members, conversation_read(conversation_id, viewer, target))
    return await member_conversation(ctx, conversation_id)


async def set_typing(ctx: RequestContext, conversation_id: int, is_typing: bool) -> bool:
    """Tell the other members; pub/sub only. Subscribers let it lapse after TYPING_TTL_SECONDS."""
    viewer = ctx.require_viewer()
    await member_conversation(ctx, conversation_id)
    members = await MemberIds(ctx).load(conversation_id)
    others = [user_id for user_id in members if user_id != viewer]
    await publish(ctx.services, others, typing_changed(conversation_id, viewer, is_typing))
    return True


async def publish(services: Services, user_ids: Iterable[int], event: EventPayload) -> None:
    """Publish to each user's channel after the commit. A broker outage loses only live delivery:
    the data is committed, and clients catch up with afterSeq."""

    async def one(user_id: int) -> None:
        try:
            await services.pubsub.publish(user_channel(user_id), event)
        except PublishFailed as exc:
            log.warning("%s", exc)

    await asyncio.gather(*(one(user_id) for user_id in unique(user_ids)))
