"""In-process fan-out over a broadcaster backend, with bounded subscriber queues.

We keep broadcaster's backend protocol (``memory://`` is its MemoryBackend, ``redis://``
our ResilientRedisBackend) but not ``broadcaster.Broadcast`` itself: its listener pushes
into one unbounded queue per subscriber and awaits each put, and one subscribe() covers
one channel. Instead a dispatcher task reads ``backend.next_published()`` and hands each
event to the local subscriptions of that channel with a non-blocking put.

- One upstream subscription per channel, however many local subscribers: the set of
  channels subscribed on the backend is reconciled with the local ones under a lock.
- A subscription's buffer holds at most ``queue_size`` events. When an event arrives for
  a full buffer the subscription is marked overflowed and its buffer dropped; its NEXT
  iteration raises SubscriptionOverflow at once, without yielding what was still queued
  (the client reloads everything from the database with afterSeq anyway), and every later
  iteration raises it again. Nothing blocks the dispatcher; other subscribers go on.
- The dispatcher logs and survives any exception, and yields to the loop after each
  event so readers get to drain their buffers while a burst is being fanned out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from broadcaster import BroadcastBackend, Event

from .cluster_backend import ClusterRedisBackend
from .errors import PublishFailed, SubscriptionOverflow
from .memory_backend import MemoryBackend
from .redis_backend import ResilientRedisBackend

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    channel: str
    event: dict[str, Any]


class Subscription:
    """One subscriber over one or more channels; iterate it for Messages.

    Iteration ends (StopAsyncIteration) once the subscription is closed, i.e. its
    ``subscribe()`` block exited or the PubSub disconnected. Meant for a single reader.
    """

    def __init__(
        self, channels: tuple[str, ...], maxsize: int, on_caught_up: Callable[[], None] | None = None
    ) -> None:
        self.channels = channels
        self.maxsize = maxsize
        self.is_caught_up = False
        self._on_caught_up = on_caught_up
        self._buffer: deque[Message] = deque()
        self._wakeup = asyncio.Event()
        self._overflowed = False
        self._closed = False
        self.high_water = 0

    @property
    def pending(self) -> int:
        return len(self._buffer)

    @property
    def overflowed(self) -> bool:
        return self._overflowed

    @property
    def closed(self) -> bool:
        return self._closed

    def mark_caught_up(self) -> None:
        """The reader has read its backlog: from now on everything reaches it live. Readiness for
        whoever waits on it (PubSub.caught_up), never a condition of delivery."""
        if not self.is_caught_up:
            self.is_caught_up = True
            if self._on_caught_up is not None:
                self._on_caught_up()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        while True:
            if self._overflowed:
                raise SubscriptionOverflow(self.channels, self.maxsize)
            if self._buffer:
                return self._buffer.popleft()
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()

    def _offer(self, message: Message) -> bool:
        """Queue without blocking; False when dropped (closed, or overflowing now)."""
        if self._overflowed or self._closed:
            return False
        if len(self._buffer) >= self.maxsize:
            self._overflowed = True
            self._buffer.clear()
            self._wakeup.set()
            return False
        self._buffer.append(message)
        self.high_water = max(self.high_water, len(self._buffer))
        self._wakeup.set()
        return True

    def _close(self) -> None:
        self._closed = True
        self._wakeup.set()


def create_backend(url: str) -> BroadcastBackend:
    scheme = urlparse(url).scheme
    if scheme == "memory":
        return MemoryBackend(url)
    if scheme in ("redis", "rediss"):
        return ResilientRedisBackend(url)
    if scheme in ("redis+cluster", "rediss+cluster"):
        return ClusterRedisBackend(url)
    raise ValueError(
        f"unsupported pub/sub URL scheme {scheme!r} (use memory://, redis:// or redis+cluster://)"
    )


# Stamped on every published event and removed before delivery: the publish time, for lag metrics.
SENT_AT = "_sent_at"


def _honour_cancellation() -> None:
    """redis-py can swallow a cancellation that arrives while it sends SUBSCRIBE (the task keeps
    its cancel request but the CancelledError never surfaces): raise it here, or a subscriber
    cancelled during subscribe (a closing socket, a process shutting down) would wait forever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class PubSub:
    def __init__(self, url: str, *, queue_size: int = 256, backend: BroadcastBackend | None = None) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.queue_size = queue_size
        self.backend: BroadcastBackend = backend if backend is not None else create_backend(url)
        self._local: dict[str, set[Subscription]] = {}
        self._upstream: set[str] = set()
        self._upstream_lock = asyncio.Lock()
        self._dispatcher: asyncio.Task[None] | None = None
        self._readiness = asyncio.Event()  # set, then replaced, when a subscriber catches up or leaves
        self.published = 0
        self.delivered = 0
        self.overflows = 0
        # Called with the seconds from publish to hand-over, once per delivered event (metrics).
        self.on_delivery: Callable[[float], None] | None = None

    async def __aenter__(self) -> PubSub:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.disconnect()

    async def connect(self) -> None:
        if self._dispatcher is not None:
            raise RuntimeError("PubSub is already connected")
        await self.backend.connect()
        self._dispatcher = asyncio.create_task(self._dispatch_forever(), name="pubsub-dispatcher")

    async def disconnect(self) -> None:
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is None:
            return
        dispatcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await dispatcher
        for subscriptions in self._local.values():
            for subscription in subscriptions:
                subscription._close()
        self._local.clear()
        self._upstream.clear()
        await self.backend.disconnect()

    async def publish(self, channel: str, event: Mapping[str, Any]) -> None:
        """Publish one JSON event; raises PublishFailed when the broker is unreachable."""
        data = json.dumps({**event, SENT_AT: time.time()}, separators=(",", ":"))
        try:
            await self.backend.publish(channel, data)
        except PublishFailed:
            raise
        except Exception as exc:
            raise PublishFailed(channel, repr(exc)) from exc
        self.published += 1

    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[Subscription]:
        """Subscribe to several channels at once.

        On entry the channels are live upstream (for Redis: SUBSCRIBE confirmed, unless
        Redis is down, see ResilientRedisBackend.subscribe), so a caller can then read
        its backlog from the database without missing anything published meanwhile.
        """
        if not channels:
            raise ValueError("subscribe() needs at least one channel")
        if self._dispatcher is None:
            raise RuntimeError("PubSub is not connected")
        subscription = Subscription(tuple(dict.fromkeys(channels)), self.queue_size, self._changed)
        for channel in subscription.channels:
            self._local.setdefault(channel, set()).add(subscription)
        try:
            await self._sync_upstream()
            _honour_cancellation()
            yield subscription
        finally:
            subscription._close()
            for channel in subscription.channels:
                local = self._local.get(channel)
                if local is not None:
                    local.discard(subscription)
                    if not local:
                        del self._local[channel]
            self._changed()
            # A failed or interrupted sync only leaves an idle upstream channel whose
            # events the dispatcher ignores; the next sync removes it.
            try:
                await self._sync_upstream()
            except Exception:
                log.exception("could not unsubscribe %s upstream", subscription.channels)

    def live_subscribers(self, channel: str) -> int:
        """Local subscribers of `channel` that are live and caught up."""
        return sum(1 for sub in self._local.get(channel, ()) if sub.is_caught_up)

    async def caught_up(self, channel: str, count: int = 1) -> None:
        """Wait until `count` local subscribers of `channel` are live and caught up: the readiness
        signal a test (or a health check) waits on instead of sleeping."""
        while self.live_subscribers(channel) < count:
            await self._readiness.wait()

    async def unsubscribed(self, channel: str) -> None:
        """Wait until no local subscriber of `channel` is left."""
        while channel in self._local:
            await self._readiness.wait()

    def _changed(self) -> None:
        self._readiness.set()
        self._readiness = asyncio.Event()

    async def _sync_upstream(self) -> None:
        """Make the backend's channel set equal the channels with local subscribers."""
        async with self._upstream_lock:
            for channel in sorted(self._upstream - self._local.keys()):
                self._upstream.discard(channel)
                try:
                    await self.backend.unsubscribe(channel)
                except Exception:
                    log.exception("backend unsubscribe(%r) failed", channel)
            for channel in sorted(self._local.keys() - self._upstream):
                await self.backend.subscribe(channel)
                self._upstream.add(channel)

    async def _dispatch_forever(self) -> None:
        while True:
            try:
                event = await self.backend.next_published()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pub/sub backend failed to return an event; retrying")
                await asyncio.sleep(0.1)
                continue
            try:
                self._dispatch(event)
            except Exception:
                log.exception("could not dispatch event on %r", getattr(event, "channel", None))
            await asyncio.sleep(0)

    def _dispatch(self, event: Event) -> None:
        local = self._local.get(event.channel)
        if not local:
            return
        try:
            payload = json.loads(event.message)
        except (TypeError, ValueError):
            log.warning("dropping non-JSON event on %r", event.channel)
            return
        if not isinstance(payload, dict):
            log.warning("dropping non-object event on %r", event.channel)
            return
        sent_at = payload.pop(SENT_AT, None)
        if self.on_delivery is not None and isinstance(sent_at, float):
            self.on_delivery(max(0.0, time.time() - sent_at))
        for subscription in list(local):
            was_overflowed = subscription.overflowed
            if subscription._offer(Message(event.channel, dict(payload))):
                self.delivered += 1
            elif subscription.overflowed and not was_overflowed:
                self.overflows += 1
                log.warning(
                    "subscriber on %s fell %d events behind; cut off",
                    ", ".join(subscription.channels),
                    subscription.maxsize,
                )
