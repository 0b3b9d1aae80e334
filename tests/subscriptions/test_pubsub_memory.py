"""PubSub over broadcaster's memory:// backend: fan-out, ordering, bounded queues."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from broadcaster import Event

from subscriptions import (
    Message,
    PublishFailed,
    PubSub,
    Subscription,
    SubscriptionOverflow,
    message_added,
    revocations_channel,
    token_revoked,
    user_channel,
)
from subscriptions.memory_backend import MemoryBackend


class CountingBackend(MemoryBackend):
    """Memory backend that records upstream (un)subscribes."""

    def __init__(self) -> None:
        super().__init__("memory://")
        self.subscribes: list[str] = []
        self.unsubscribes: list[str] = []

    async def subscribe(self, channel: str) -> None:
        self.subscribes.append(channel)
        await super().subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        self.unsubscribes.append(channel)
        await super().unsubscribe(channel)


async def next_message(subscription: Subscription, wait: float = 2.0) -> Message:
    return await asyncio.wait_for(anext(subscription), wait)


async def read_numbers(subscription: Subscription, count: int) -> list[Any]:
    """A prompt reader: iterates directly, so it wakes as soon as an event is queued."""
    numbers: list[Any] = []
    async for message in subscription:
        numbers.append(message.event["n"])
        if len(numbers) == count:
            break
    return numbers


async def assert_nothing_pending(subscription: Subscription) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(subscription), 0.05)


async def test_round_trip() -> None:
    async with PubSub("memory://") as hub, hub.subscribe(user_channel(1)) as sub:
        await hub.publish(user_channel(1), message_added(conversation_id=7, message_id=8, seq=1))
        assert await next_message(sub) == Message(
            "user:1", {"type": "message_added", "conversation_id": 7, "message_id": 8, "seq": 1}
        )
        assert (hub.published, hub.delivered, hub.overflows) == (1, 1, 0)


async def test_one_subscription_over_several_channels() -> None:
    async with PubSub("memory://") as hub, hub.subscribe(user_channel(1), revocations_channel()) as sub:
        await hub.publish(user_channel(1), message_added(1, 2, 3))
        await hub.publish(revocations_channel(), token_revoked(5))
        await hub.publish(user_channel(2), message_added(9, 9, 9))
        first, second = await next_message(sub), await next_message(sub)
        assert (first.channel, first.event["type"]) == ("user:1", "message_added")
        assert second == Message("tokens:revoked", {"type": "token_revoked", "token_id": 5})
        await assert_nothing_pending(sub)


async def test_left_channel_stops_delivering() -> None:
    backend = CountingBackend()
    async with PubSub("memory://", backend=backend) as hub, hub.subscribe("b") as stays:
        async with hub.subscribe("a") as leaves:
            await hub.publish("a", {"n": 1})
            assert (await next_message(leaves)).event == {"n": 1}
        assert backend.unsubscribes == ["a"]
        await hub.publish("a", {"n": 2})
        await hub.publish("b", {"n": 3})
        assert await next_message(stays) == Message("b", {"n": 3})
        assert hub.delivered == 2
        # A closed subscription ends its iteration instead of hanging.
        with pytest.raises(StopAsyncIteration):
            await next_message(leaves)


async def test_local_subscribers_share_one_upstream_subscription() -> None:
    backend = CountingBackend()
    async with PubSub("memory://", backend=backend) as hub:
        async with hub.subscribe("c") as first:
            async with hub.subscribe("c", "d") as second:
                await hub.publish("c", {"n": 1})
                assert await next_message(first) == Message("c", {"n": 1})
                assert await next_message(second) == Message("c", {"n": 1})
                assert sorted(backend.subscribes) == ["c", "d"]
            assert backend.unsubscribes == ["d"]
            await hub.publish("c", {"n": 2})
            assert await next_message(first) == Message("c", {"n": 2})
        assert sorted(backend.unsubscribes) == ["c", "d"]
        assert sorted(backend.subscribes) == ["c", "d"]


async def test_subscribers_get_their_own_copy_of_the_event() -> None:
    async with PubSub("memory://") as hub, hub.subscribe("c") as first, hub.subscribe("c") as second:
        await hub.publish("c", {"n": 1})
        (await next_message(first)).event["n"] = 99
        assert (await next_message(second)).event == {"n": 1}


async def test_order_preserved_for_a_thousand_events() -> None:
    async with PubSub("memory://") as hub, hub.subscribe("c") as sub:
        reader = asyncio.create_task(read_numbers(sub, 1000))
        for n in range(1000):
            await hub.publish("c", {"n": n})
        assert await asyncio.wait_for(reader, 5) == list(range(1000))
        assert not sub.overflowed and sub.high_water <= hub.queue_size


async def test_slow_consumer_is_cut_off_without_hurting_others() -> None:
    async with PubSub("memory://", queue_size=10) as hub:
        async with hub.subscribe("c") as slow, hub.subscribe("c") as steady:
            reader = asyncio.create_task(read_numbers(steady, 1000))
            for n in range(1000):
                await hub.publish("c", {"n": n})
                assert slow.pending <= 10
            assert await asyncio.wait_for(reader, 5) == list(range(1000))

            assert slow.high_water == 10
            assert slow.overflowed and slow.pending == 0  # buffer released at overflow
            assert hub.overflows == 1
            assert hub.delivered == 1000 + 10
            # Raised at once, and again on every later attempt.
            for _ in range(2):
                with pytest.raises(SubscriptionOverflow, match="resubscribe with afterSeq"):
                    await next_message(slow)
        assert not steady.overflowed


async def test_dispatcher_survives_bad_events_and_backend_errors() -> None:
    class FlakyBackend(MemoryBackend):
        failures = 0

        async def next_published(self) -> Event:
            event: Event = await super().next_published()
            if event.message == '"boom"':
                self.failures += 1
                raise RuntimeError("backend hiccup")
            return event

    backend = FlakyBackend("memory://")
    async with PubSub("memory://", backend=backend) as hub, hub.subscribe("c") as sub:
        await backend.publish("c", "not json")
        await backend.publish("c", "[1, 2]")
        await hub.publish("c", {"n": 1})
        assert await next_message(sub) == Message("c", {"n": 1})
        await backend.publish("c", '"boom"')
        await hub.publish("c", {"n": 2})
        assert await next_message(sub) == Message("c", {"n": 2})
        assert backend.failures == 1
        assert hub.delivered == 2


async def test_publish_failure_is_wrapped() -> None:
    class BrokenBackend(MemoryBackend):
        async def publish(self, channel: str, message: Any) -> None:
            raise ConnectionRefusedError("broker down")

    async with PubSub("memory://", backend=BrokenBackend("memory://")) as hub:
        with pytest.raises(PublishFailed, match="user:1"):
            await hub.publish("user:1", {"n": 1})
        assert hub.published == 0


async def test_misuse_is_rejected() -> None:
    hub = PubSub("memory://")
    with pytest.raises(RuntimeError, match="not connected"):
        async with hub.subscribe("c"):
            pass
    with pytest.raises(ValueError, match="scheme"):
        PubSub("kafka://localhost")
    with pytest.raises(ValueError, match="queue_size"):
        PubSub("memory://", queue_size=0)
    async with hub:
        with pytest.raises(ValueError, match="at least one channel"):
            async with hub.subscribe():
                pass


async def test_disconnect_ends_open_subscriptions() -> None:
    hub = PubSub("memory://")
    await hub.connect()
    async with hub.subscribe("c") as sub:
        reader = asyncio.create_task(next_message(sub))
        await asyncio.sleep(0)
        await hub.disconnect()
        with pytest.raises(StopAsyncIteration):
            await reader
