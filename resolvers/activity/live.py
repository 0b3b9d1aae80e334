"""activityAdded: the viewer's new and regrouped activity items, replayed then live, without a gap.

The same order of operations as conversationEvents (resolvers/conversations/live.py):
1. subscribe to the viewer's channel (returns once the broker confirmed it);
2. note the highest seq already delivered (afterSeq, or the inbox's current last seq);
3. replay from the database every item whose seq is above it, in seq order;
4. for each live `activity_added` above the delivered seq, read every item up to it. The inbox row
   hands out seqs in the writing transactions and stays locked until they commit, so once seq N
   is published everything below it is committed: nothing is skipped, whatever order events
   arrive in. An item regrouped meanwhile has left its old seq and comes once, at its new one.
A ``resync`` from the broker reloads whatever is newer. Each item is checked with fresh loaders.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select

from core.context import RequestContext, Services
from core.errors import BadInput, RateLimited
from models import Activity, ActivityInbox
from resolvers.activity.inbox import ActivityItem, load_items
from subscriptions import InvalidEvent, Subscription, SubscriptionOverflow, parse_event, user_channel

REPLAY_BATCH = 100


class ActivityFellBehind(RateLimited):
    """The client read too slowly and its bounded queue overflowed: it resubscribes with afterSeq."""

    def __init__(self, after_seq: int) -> None:
        super().__init__("This subscription fell behind; subscribe again with afterSeq.", retry_after=1)
        self.extensions["resubscribe"] = True
        self.extensions["afterSeq"] = after_seq


async def activity_added(ctx: RequestContext, after_seq: int | None) -> AsyncIterator[ActivityItem]:
    viewer = ctx.require_viewer()
    if after_seq is not None and after_seq < 0:
        raise BadInput("`afterSeq` cannot be negative.", field="afterSeq")
    stream = _Stream(ctx, viewer)
    async with ctx.services.pubsub.subscribe(user_channel(viewer)) as subscription:
        try:
            async for item in stream.run(subscription, after_seq):
                yield item
        except SubscriptionOverflow:
            raise ActivityFellBehind(stream.delivered) from None


class _Stream:
    def __init__(self, ctx: RequestContext, viewer: int) -> None:
        self.ctx = ctx
        self.viewer = viewer
        self.delivered = 0

    async def run(self, subscription: Subscription, after_seq: int | None) -> AsyncIterator[ActivityItem]:
        if after_seq is None:
            self.delivered = await last_seq(self.ctx.services, self.viewer)
        else:
            self.delivered = after_seq
            async for item in self.catch_up(None):
                yield item
        subscription.mark_caught_up()
        async for received in subscription:
            try:
                event = parse_event(received.event)
            except InvalidEvent:
                continue
            if event["type"] == "resync":
                async for item in self.catch_up(None):
                    yield item
            elif event["type"] == "activity_added" and event["seq"] > self.delivered:
                async for item in self.catch_up(event["seq"]):
                    yield item

    async def catch_up(self, up_to: int | None) -> AsyncIterator[ActivityItem]:
        """Every item above the delivered seq (up to `up_to`), in seq order, batch by batch."""
        while True:
            rows = await items_after(self.ctx.services, self.viewer, self.delivered, up_to, REPLAY_BATCH)
            items = await load_items(self.ctx.fresh(), rows)
            for row, item in zip(rows, items, strict=True):
                self.delivered = row.seq
                if item is not None:
                    yield item
            if len(rows) < REPLAY_BATCH:
                break
        if up_to is not None:
            self.delivered = max(self.delivered, up_to)


async def last_seq(services: Services, user_id: int) -> int:
    async with services.db.read() as session:
        found = await session.scalar(select(ActivityInbox.last_seq).where(ActivityInbox.user_id == user_id))
    return found or 0


async def items_after(
    services: Services, user_id: int, after_seq: int, up_to: int | None, limit: int
) -> list[Activity]:
    """The user's items with seq in (after_seq, up_to], oldest first: what a subscriber replays."""
    stmt = (
        select(Activity)
        .where(Activity.user_id == user_id, Activity.seq > after_seq)
        .order_by(Activity.seq)
        .limit(limit)
    )
    if up_to is not None:
        stmt = stmt.where(Activity.seq <= up_to)
    async with services.db.read() as session:
        return list(await session.scalars(stmt))
