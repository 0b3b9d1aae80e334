"""Messages: sending (ordered by seq, idempotent by clientId) and paging through history."""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, literal, select, union_all, update

from core.context import RequestContext, Services
from core.errors import BadInput, Conflict
from core.unit_of_work import UnitOfWork
from models import Conversation, ConversationMember, Message
from resolvers.accounts.users import UserById, relationship, relationships
from resolvers.conversations.conversations import member_conversation, member_of, visible_conversation
from resolvers.conversations.members import ACCEPTED, DECLINED, PENDING, MemberIds
from resolvers.conversations.sending import AlreadySent, insert_message, send_target
from resolvers.conversations.shares import check_shares
from resolvers.loader import RequestLoader, unique
from resolvers.media.uploads import attach
from resolvers.paging import Page, check_size, decode_cursor, encode_cursor
from resolvers.text import clean_text
from resolvers.visibility import can_interact
from subscriptions import message_added

MAX_BODY = 2000
MAX_CLIENT_ID = 64
# A send that finds its clientId taken by a racing one runs again, and then answers with it.
SEND_ATTEMPTS = 3


@dataclass(frozen=True)
class Shares:
    """What a message shares: a post or a story (ids), checked at send time."""

    post_id: int | None = None
    story_id: int | None = None


class MessageById(RequestLoader[int, Message | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Message | None]:
        async with self.ctx.read() as session:
            return {
                m.id: m for m in await session.scalars(select(Message).where(Message.id.in_(unique(keys))))
            }

    def default(self, key: int) -> Message | None:
        return None


@dataclass(frozen=True)
class MessagePageKey:
    """One page of one conversation: `size` messages after `after` (forward) or before `before`."""

    conversation_id: int
    size: int
    after: int | None = None
    before: int | None = None
    backward: bool = False


class MessagesPage(RequestLoader[MessagePageKey, Page[Message]]):
    """Pages of several conversations in two statements (ids per page, then the rows)."""

    async def fetch(self, keys: Sequence[MessagePageKey]) -> Mapping[MessagePageKey, Page[Message]]:
        keys = unique(keys)
        branches: list[Any] = []
        for index, key in enumerate(keys):
            stmt = select(Message.id.label("id"), Message.seq.label("seq")).where(
                Message.conversation_id == key.conversation_id
            )
            if key.after is not None:
                stmt = stmt.where(Message.seq > key.after)
            if key.before is not None:
                stmt = stmt.where(Message.seq < key.before)
            order = Message.seq.desc() if key.backward else Message.seq.asc()
            sub = stmt.order_by(order).limit(key.size + 1).subquery()
            branches.append(select(literal(index).label("k"), sub.c.id, sub.c.seq))
        async with self.ctx.read() as session:
            statement: Any = union_all(*branches) if len(branches) > 1 else branches[0]
            hits: list[Any] = list((await session.execute(statement)).all())
            ids = [hit.id for hit in hits]
            rows = {m.id: m for m in await session.scalars(select(Message).where(Message.id.in_(ids)))}
        found: dict[int, list[Message]] = {}
        for hit in hits:
            if hit.id in rows:
                found.setdefault(hit.k, []).append(rows[hit.id])
        return {key: page_of(found.get(index, []), key) for index, key in enumerate(keys)}


def page_of(rows: list[Message], key: MessagePageKey) -> Page[Message]:
    rows = sorted(rows, key=lambda m: m.seq, reverse=key.backward)
    more = len(rows) > key.size
    rows = rows[: key.size]
    if key.backward:
        rows.reverse()
    items = [(encode_cursor(m.seq), m) for m in rows]
    if key.backward:
        return Page(items, has_next=key.before is not None, has_previous=more)
    return Page(items, has_next=more, has_previous=key.after is not None)


def page_key(
    conversation_id: int, first: int | None, after: str | None, last: int | None, before: str | None
) -> MessagePageKey:
    """Relay arguments to a page: `first`/`after` forward, `last`/`before` back (the default: last 20)."""
    if first is not None and last is not None:
        raise BadInput("Pass `first` or `last`, not both.", field="first")
    after_seq = _seq_cursor(after, "after")
    before_seq = _seq_cursor(before, "before")
    if first is not None or (after_seq is not None and last is None):
        return MessagePageKey(
            conversation_id, check_size(first, "first", 20), after=after_seq, before=before_seq
        )
    return MessagePageKey(
        conversation_id, check_size(last, "last", 20), after=after_seq, before=before_seq, backward=True
    )


def _seq_cursor(cursor: str | None, name: str) -> int | None:
    if not cursor:
        return None
    key = decode_cursor(cursor)
    if not key.isdigit():
        raise BadInput("Malformed cursor.", field=name)
    return int(key)


async def visible_messages(ctx: RequestContext, messages: list[Message]) -> list[bool]:
    """Nothing flows between a blocked pair: a message shows if the viewer may interact with its sender."""
    rels = await relationships(ctx, [m.sender_id for m in messages])
    return [can_interact(rel) for rel in rels]


async def readable_messages(ctx: RequestContext, messages: list[Message]) -> list[bool]:
    """`visible_messages` for messages of any conversation: the viewer must be a member of it too."""
    members, shown = await asyncio.gather(
        member_of(ctx, [m.conversation_id for m in messages]), visible_messages(ctx, messages)
    )
    return [member and ok for member, ok in zip(members, shown, strict=True)]


async def prefetch_conversations(ctx: RequestContext, rows: list[Conversation]) -> None:
    """Load what a conversation list shows (members, last messages, their users and the viewer's
    relationships to them) in one batch each, so the statement count does not depend on which
    field resolver happens to run first."""
    member_lists, last = await asyncio.gather(
        MemberIds(ctx).load_many([row.id for row in rows]),
        MessageById(ctx).load_many([row.last_message_id for row in rows if row.last_message_id is not None]),
    )
    users = unique(
        [*(user for members in member_lists for user in members), *(m.sender_id for m in last if m)]
    )
    await asyncio.gather(UserById(ctx).load_many(users), relationships(ctx, users))


async def visible_message(ctx: RequestContext, message_id: int) -> Message | None:
    """A message the viewer may see: a member of its conversation, no block with its sender."""
    message = await MessageById(ctx).load(message_id)
    if message is None or ctx.viewer_id is None:
        return None
    if await visible_conversation(ctx, message.conversation_id) is None:
        return None
    return message if can_interact(await relationship(ctx, message.sender_id)) else None


def clean_client_id(client_id: str) -> str:
    """An idempotency key: 1 to 64 visible characters (an empty one would make every retry-less
    send look like a retry of the first)."""
    value = client_id.strip()
    if not 1 <= len(value) <= MAX_CLIENT_ID or any(
        unicodedata.category(char).startswith(("C", "Z")) for char in value
    ):
        raise BadInput(
            f"`clientId` is 1 to {MAX_CLIENT_ID} characters without spaces or controls.", field="clientId"
        )
    return value


def clean_body(body: str | None) -> str:
    return clean_text(body or "", field="body", max_length=MAX_BODY)


async def send_message(
    ctx: RequestContext,
    conversation_id: int,
    body: str,
    client_id: str,
    media_id: int | None = None,
    shares: Shares = Shares(),
) -> Message:
    """Send as the viewer. A retry with the same clientId returns the first message, even when racing,
    after the checks of a first send (membership; no block in a 1:1 conversation)."""
    client_id = clean_client_id(client_id)
    text = clean_body(body)
    if not text and media_id is None and shares.post_id is None and shares.story_id is None:
        raise BadInput("A message needs a body, media or a share.", field="body")
    media = (await attach(ctx, [media_id], "MESSAGE", "mediaId"))[0] if media_id is not None else None
    for attempt in range(SEND_ATTEMPTS):
        try:
            return await _send(ctx, conversation_id, text, client_id, media.id if media else None, shares)
        except AlreadySent:
            # A racing send with this clientId committed first: the next attempt answers with it.
            if attempt + 1 == SEND_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def _send(
    ctx: RequestContext, conversation_id: int, text: str, client_id: str, media_id: int | None, shares: Shares
) -> Message:
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        target = await send_target(ctx, conversation_id, client_id)
        # A replay passes what the first call checked (membership, no block in a 1:1 conversation,
        # what it shares) before it answers with the first message.
        if not target.is_group:
            await _check_direct(ctx, work, [user for user in target.member_ids if user != viewer])
        if target.earlier_id is not None:
            earlier = await MessageById(ctx).load(target.earlier_id)
            if earlier is None:  # deleted since it was read: run again
                raise AlreadySent()
            if earlier.conversation_id != conversation_id:
                await member_conversation(ctx, earlier.conversation_id)
            await check_shares(ctx, earlier.shared_post_id, earlier.shared_story_id)
            return _same_send(earlier, conversation_id)
        await check_shares(ctx, shares.post_id, shares.story_id)
        if target.state == PENDING:  # writing in a message request accepts it
            await _accept(work, conversation_id, viewer)
        # A group's members can change until its row is locked (by the seq UPDATE): read after it.
        members = None if target.is_group else target.member_ids
        return await add_message(
            ctx, work, conversation_id, text, client_id, media_id, shares=shares, members=members
        )


async def _accept(work: UnitOfWork, conversation_id: int, viewer: int) -> None:
    await work.session.execute(
        update(ConversationMember)
        .where(ConversationMember.conversation_id == conversation_id, ConversationMember.user_id == viewer)
        .values(state=ACCEPTED)
    )


async def earlier_send(ctx: RequestContext, work: UnitOfWork, client_id: str) -> Message | None:
    """The viewer's message already sent with this clientId, if any. Sends with one clientId queue
    on a lock until commit, so a racing retry sees the first one instead of inserting a second."""
    viewer = ctx.require_viewer()
    await work.lock("client-id", viewer, client_id)
    found: Message | None = await work.session.scalar(
        select(Message).where(Message.sender_id == viewer, Message.client_id == client_id)
    )
    return found


def _same_send(existing: Message, conversation_id: int) -> Message:
    if existing.conversation_id != conversation_id:
        raise Conflict(
            "This clientId was already used for a message in another conversation.", field="clientId"
        )
    return existing


async def _check_direct(ctx: RequestContext, work: UnitOfWork, others: list[int]) -> None:
    """Nothing flows between a blocked pair: checked with the pair locked against a block."""
    await work.lock_pairs(ctx.require_viewer(), others)
    if not all(can_interact(rel) for rel in await relationships(ctx, others)):
        raise BadInput("Messages cannot be sent between blocked accounts.", field="conversationId")


async def add_message(
    ctx: RequestContext,
    work: UnitOfWork,
    conversation_id: int,
    body: str,
    client_id: str,
    media_id: int | None,
    reply_to_story_id: int | None = None,
    shares: Shares = Shares(),
    members: list[int] | None = None,
) -> Message:
    """The next message of the conversation, published to its members after the commit (`members`:
    who they are, when they cannot have changed since they were read; else read after the seq)."""
    services = ctx.services
    message = await insert_message(
        work,
        Message(
            id=services.ids.next_id(),
            conversation_id=conversation_id,
            sender_id=ctx.require_viewer(),
            client_id=client_id,
            body=body,
            media_id=media_id,
            reply_to_story_id=reply_to_story_id,
            shared_post_id=shares.post_id,
            shared_story_id=shares.story_id,
            sent_at=services.clock.now(),
            edited_at=None,
            unsent_at=None,
        ),
    )
    if members is None:
        members = await MemberIds(ctx).load(conversation_id)
    work.publish(members, message_added(conversation_id, message.id, message.seq))
    return message


async def messages_after(
    services: Services, conversation_id: int, after_seq: int, up_to: int | None, limit: int, member: int
) -> list[tuple[Message, ConversationMember]]:
    """Messages with seq in (after_seq, up_to], oldest first, each beside `member`'s membership row:
    what a subscriber replays. None once `member` is no longer a member (or declined): the
    membership is joined in the same statement, so a replay never runs past a removal, and the
    row read with the messages is the one their delivery may show (live.py reuses it)."""
    joined = and_(
        ConversationMember.conversation_id == Message.conversation_id,
        ConversationMember.user_id == member,
        ConversationMember.state != DECLINED,
    )
    stmt = (
        select(Message, ConversationMember)
        .join(ConversationMember, joined)
        .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq)
        .limit(limit)
    )
    if up_to is not None:
        stmt = stmt.where(Message.seq <= up_to)
    async with services.db.read() as session:
        return [(message, membership) for message, membership in await session.execute(stmt)]
