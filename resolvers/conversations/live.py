"""conversationEvents: a replay from the database, then live events, with no gap and no repeat.

The order of operations is what makes it gapless:
1. subscribe to the viewer's channel (returns once the broker confirmed it);
2. note, per conversation, the highest seq already delivered (afterSeq, or the current last seq);
3. replay from the database everything above it;
4. for each live MessageAdded: skip it if its seq was delivered; otherwise read from the database
   every seq up to it. A seq N is only committed after N-1 (the conversation row serializes
   senders), so this also puts messages published out of order back in seq order.
A ``resync`` from the broker (it reconnected; events may be lost) reloads what is missing the
same way. Membership and blocks are checked again for every event with fresh loaders, and a
replay reads messages only while the viewer is a member (in the same statement): a removed
member's stream, on whatever process, delivers nothing of the conversation after the removal.
`message_changed` and `members_changed` carry the seq they follow: messages up to it are
delivered first, so each lands in the conversation's order. What those checks read (`Seen`) goes
with the event to its frame, which reuses it instead of reading it again (`reuse`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.context import RequestContext
from core.errors import BadInput, RateLimited
from models import Conversation, ConversationMember, Message
from resolvers.accounts.users import Blocks, BlocksOf, RelationshipTo, relationship, relationships
from resolvers.conversations.conversations import (
    ConversationById,
    last_seqs,
    member_conversation,
    visible_conversation,
)
from resolvers.conversations.members import Membership
from resolvers.conversations.messages import MessageById, messages_after, visible_messages
from resolvers.visibility import Relationship, can_interact
from subscriptions import InvalidEvent, Subscription, SubscriptionOverflow, parse_event, user_channel
from subscriptions import Message as PubSubMessage

REPLAY_BATCH = 100


@dataclass(frozen=True)
class Seen:
    """What the read that decided an event loaded: the viewer's membership in its conversation and
    the relationships to the users it is about (sender, reader, typist). The event's frame reuses
    them (`reuse`) instead of reading them again."""

    membership: ConversationMember | None
    relationships: Mapping[int, Relationship]
    blocks: Blocks | None  # the viewer's blocked pairs, read in the relationships' statement


async def seen(ctx: RequestContext, conversation_id: int, *users: int) -> Seen:
    """What `ctx` loaded while deciding an event (the rules read them through its loaders, so this
    runs no statement: reading the relationship to another user primes the viewer's blocks)."""
    membership = await Membership(ctx).load(conversation_id)
    found = await relationships(ctx, users) if users else []
    viewer = ctx.require_viewer()
    blocks = await BlocksOf(ctx).load(viewer) if any(user != viewer for user in users) else None
    return Seen(membership, dict(zip(users, found, strict=True)), blocks)


@dataclass(frozen=True)
class MessageEvent:
    """A message to deliver; the catch-up read the viewer's membership in the message's own
    statement and the relationship to its sender just after, for its batch."""

    message: Message
    seen: Seen


@dataclass(frozen=True)
class ReadEvent:
    conversation: Conversation
    reader_id: int
    up_to_seq: int
    seen: Seen


@dataclass(frozen=True)
class TypingEvent:
    conversation: Conversation
    user_id: int
    is_typing: bool
    seen: Seen


@dataclass(frozen=True)
class ChangedEvent:
    message: Message
    seen: Seen


@dataclass(frozen=True)
class MembersEvent:
    conversation: Conversation
    added: list[int]
    removed: list[int]
    seen: Seen


LiveEvent = MessageEvent | ReadEvent | TypingEvent | ChangedEvent | MembersEvent


class FellBehind(RateLimited):
    """The client read too slowly and its bounded queue overflowed: it resubscribes with afterSeq."""

    def __init__(self, after_seq: int | None) -> None:
        super().__init__("This subscription fell behind; subscribe again with afterSeq.", retry_after=1)
        self.extensions["resubscribe"] = True
        if after_seq is not None:
            self.extensions["afterSeq"] = after_seq


async def conversation_events(
    ctx: RequestContext, conversation_id: int | None, after_seq: int | None
) -> AsyncIterator[LiveEvent]:
    viewer = ctx.require_viewer()
    if after_seq is not None:
        if conversation_id is None:
            raise BadInput("`afterSeq` needs `conversationId`.", field="afterSeq")
        if after_seq < 0:
            raise BadInput("`afterSeq` cannot be negative.", field="afterSeq")
    if conversation_id is not None:
        await member_conversation(ctx.fresh(), conversation_id)
    stream = _Stream(ctx, viewer, conversation_id)
    async with ctx.services.pubsub.subscribe(user_channel(viewer)) as subscription:
        try:
            async for event in stream.run(subscription, after_seq):
                yield event
        except SubscriptionOverflow:
            raise FellBehind(stream.delivered.get(conversation_id) if conversation_id else None) from None


class _Stream:
    def __init__(self, ctx: RequestContext, viewer: int, conversation_id: int | None) -> None:
        self.ctx = ctx
        self.viewer = viewer
        self.only = conversation_id
        self.delivered: dict[int, int] = {}
        self.typing: dict[tuple[int, int], datetime] = {}  # (conversation, user) -> lapses at
        self.ttl = timedelta(seconds=ctx.services.settings.typing_ttl_seconds)

    async def run(self, subscription: Subscription, after_seq: int | None) -> AsyncIterator[LiveEvent]:
        services = self.ctx.services
        if self.only is None:
            self.delivered = await last_seqs(services, self.viewer)
        elif after_seq is not None:
            self.delivered = {self.only: after_seq}
            async for event in self.catch_up(self.only, None):
                yield event
        else:
            conversation = await ConversationById(self.ctx.fresh()).load(self.only)
            self.delivered = {self.only: conversation.last_seq if conversation else 0}
        subscription.mark_caught_up()
        pending: asyncio.Future[PubSubMessage] | None = None  # the next event, while racing a lapse
        try:
            while True:
                if self.typing:
                    # Typing indicators lapse on the app's clock (tests move it instead of waiting).
                    pending = pending or asyncio.ensure_future(anext(subscription))
                    lapse = asyncio.ensure_future(
                        self.ctx.services.clock.sleep_until(min(self.typing.values()))
                    )
                    try:
                        await asyncio.wait((pending, lapse), return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        lapse.cancel()
                    if not pending.done():
                        async for event in self.lapse_typing():
                            yield event
                        continue
                try:
                    received = await (pending or anext(subscription))
                except StopAsyncIteration:
                    return
                finally:
                    pending = None
                async for event in self.handle(received):
                    yield event
        finally:
            if pending is not None:
                pending.cancel()

    async def handle(self, received: PubSubMessage) -> AsyncIterator[LiveEvent]:
        try:
            event = parse_event(received.event)
        except InvalidEvent:
            return
        if event["type"] == "resync":
            async for live in self.resync():
                yield live
            return
        if event["type"] not in (
            "message_added",
            "conversation_read",
            "typing_changed",
            "message_changed",
            "members_changed",
        ):
            return
        cid = event["conversation_id"]
        if self.only is not None and cid != self.only:
            return
        if event["type"] == "message_added":
            if await self.knows(cid) and event["seq"] > self.delivered[cid]:
                async for live in self.catch_up(cid, event["seq"]):
                    yield live
        elif event["type"] == "message_changed":
            async for live in self.message_changed(cid, event["message_id"], event["seq"]):
                yield live
        elif event["type"] == "members_changed":
            async for live in self.members_changed(cid, event["seq"], event["added"], event["removed"]):
                yield live
        elif event["type"] == "conversation_read":
            ctx = self.ctx.fresh()
            conversation = await self.shared(ctx, cid, event["reader_id"])
            if conversation is not None:
                yield ReadEvent(
                    conversation,
                    event["reader_id"],
                    event["up_to_seq"],
                    await seen(ctx, cid, event["reader_id"]),
                )
        elif event["type"] == "typing_changed":
            async for live in self.typing_changed(cid, event["user_id"], event["is_typing"]):
                yield live

    async def knows(self, conversation_id: int) -> bool:
        """Whether the stream has a delivered seq for the conversation; one it did not know yet (the
        viewer was added to it, or it was started) starts where the viewer joined."""
        if conversation_id in self.delivered:
            return True
        membership = await Membership(self.ctx.fresh()).load(conversation_id)
        if membership is None:
            return False
        self.delivered[conversation_id] = membership.joined_seq
        return True

    async def message_changed(
        self, conversation_id: int, message_id: int, seq: int
    ) -> AsyncIterator[LiveEvent]:
        if not await self.knows(conversation_id):
            return
        if seq > self.delivered[conversation_id]:
            # Not delivered yet: it goes out as it is now, with those before it.
            async for live in self.catch_up(conversation_id, seq):
                yield live
            return
        ctx = self.ctx.fresh()
        if await visible_conversation(ctx, conversation_id) is None:
            return
        message = await MessageById(ctx).load(message_id)
        if message is not None and (await visible_messages(ctx, [message]))[0]:
            yield ChangedEvent(message, await seen(ctx, conversation_id, message.sender_id))

    async def members_changed(
        self, conversation_id: int, seq: int, added: list[int], removed: list[int]
    ) -> AsyncIterator[LiveEvent]:
        if self.viewer in removed:
            # Out of it: if added back later, the stream starts again where they rejoined.
            self.delivered.pop(conversation_id, None)
            return
        if self.viewer in added:
            membership = await Membership(self.ctx.fresh()).load(conversation_id)
            if membership is None:
                return
            # Nothing from before they joined (a stale seq from an earlier membership included).
            joined = max(self.delivered.get(conversation_id, 0), membership.joined_seq)
            self.delivered[conversation_id] = joined
        if not await self.knows(conversation_id):
            return
        if seq > self.delivered[conversation_id]:
            async for live in self.catch_up(conversation_id, seq):
                yield live
        ctx = self.ctx.fresh()
        conversation = await visible_conversation(ctx, conversation_id)
        if conversation is not None:
            yield MembersEvent(conversation, added, removed, await seen(ctx, conversation_id))

    async def shared(self, ctx: RequestContext, conversation_id: int, user_id: int) -> Conversation | None:
        """The conversation, if the viewer is still a member and no block stands with that user."""
        conversation = await visible_conversation(ctx, conversation_id)
        if conversation is None or not can_interact(await relationship(ctx, user_id)):
            return None
        return conversation

    async def catch_up(self, conversation_id: int, up_to: int | None) -> AsyncIterator[LiveEvent]:
        """Every message above the delivered seq (up to `up_to`), in seq order, batch by batch.
        `messages_after` reads them only while the viewer is a member (not declined), in the same
        statement: no membership read of its own comes first."""
        while True:
            ctx = self.ctx.fresh()
            after = self.delivered.get(conversation_id, 0)
            read = await messages_after(
                ctx.services, conversation_id, after, up_to, REPLAY_BATCH, self.viewer
            )
            rows = [row for row, _ in read]
            shown = await visible_messages(ctx, rows)
            for (row, membership), show in zip(read, shown, strict=True):
                self.delivered[conversation_id] = row.seq
                if show:
                    # The membership read with the message; the rest loaded by visible_messages.
                    Membership(ctx).prime(conversation_id, membership)
                    yield MessageEvent(row, await seen(ctx, conversation_id, row.sender_id))
            if len(rows) < REPLAY_BATCH:
                return

    async def resync(self) -> AsyncIterator[LiveEvent]:
        """The broker reconnected and may have dropped events: reload whatever is newer."""
        current = await last_seqs(self.ctx.services, self.viewer)
        for conversation_id, last in sorted(current.items()):
            if self.only is not None and conversation_id != self.only:
                continue
            if await self.knows(conversation_id) and last > self.delivered[conversation_id]:
                async for event in self.catch_up(conversation_id, None):
                    yield event

    async def typing_changed(
        self, conversation_id: int, user_id: int, is_typing: bool
    ) -> AsyncIterator[LiveEvent]:
        if user_id == self.viewer:
            return
        key = (conversation_id, user_id)
        was_typing = key in self.typing
        if is_typing:
            self.typing[key] = self.ctx.services.clock.now() + self.ttl
        else:
            self.typing.pop(key, None)
        if is_typing == was_typing:
            return  # a refresh, or a stop of a lapsed indicator: nothing changes for the client
        ctx = self.ctx.fresh()
        conversation = await self.shared(ctx, conversation_id, user_id)
        if conversation is not None:
            yield TypingEvent(conversation, user_id, is_typing, await seen(ctx, conversation_id, user_id))

    async def lapse_typing(self) -> AsyncIterator[LiveEvent]:
        now = self.ctx.services.clock.now()
        for key, deadline in sorted(self.typing.items()):
            if deadline <= now:
                async for event in self.typing_changed(*key, False):
                    yield event


def reuse(ctx: RequestContext, event: LiveEvent) -> None:
    """Prime the frame's loaders (emptied for this event) with what the read that decided the event
    loaded (`Seen`), and nothing older.

    That read is the authoritative one for the event: a message was read in the statement that
    checked the viewer's membership, and its sender's relationship (blocks) right after; a read
    mark, typing, a change or a members event was checked the same way just before it was
    yielded. The frame renders that decision and does not re-decide it (before, a block committed
    in between made a message's frame a NOT_FOUND error). A removal, decline or block committed
    after that read takes effect from the next read: the next live event, or the next batch of a
    replay (`catch_up` has new loaders per batch). Everything else the frame shows (other users,
    the conversation row, shared posts) the frame still reads itself, with the socket's loaders
    emptied for this event."""
    if isinstance(event, MessageEvent | ChangedEvent):
        conversation_id = event.message.conversation_id
    else:
        conversation_id = event.conversation.id
    Membership(ctx).prime(conversation_id, event.seen.membership)
    RelationshipTo(ctx).prime_many(event.seen.relationships)
    if event.seen.blocks is not None:
        BlocksOf(ctx).prime(ctx.require_viewer(), event.seen.blocks)
