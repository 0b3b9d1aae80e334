"""A broadcaster backend over Redis pub/sub that outlives Redis restarts.

broadcaster 0.3.1's RedisBackend runs one listener task that dies for good when Redis
drops the connection. This backend owns its listener loop instead: on a connection error
it backs off (capped exponential), opens a fresh pub/sub connection, SUBSCRIBEs every
channel still wanted and carries on until disconnect(). After a reconnect, as soon as Redis
confirms each channel's SUBSCRIBE, it emits a ``resync`` event on that channel: whatever
was published during the outage is gone, and subscribers must reload from the database.

Two clients are used: publishes go through a pooled client with one quick retry (a pooled
connection may be stale after a restart); the pub/sub connection has no redis-py retries
so every failure reaches our loop, which is the one place that reconnects.

A silently dead peer (no RST, e.g. a network partition) is caught by our own PING
watchdog: when the connection has been quiet for ``ping_interval`` we send a PING and, if
nothing at all comes back within ``ping_timeout``, treat the connection as lost. redis-py's
``health_check_interval`` only sends pings and hides the replies, so it cannot tell.

With ``sharded=True`` the same loop speaks sharded pub/sub (SSUBSCRIBE, SPUBLISH: Redis 7) to
one node of a Redis Cluster; subscriptions/cluster_backend.py places channels on their nodes.
When that node gives a channel up (its slot moved away), ``on_moved`` is told.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from broadcaster import BroadcastBackend, Event
from redis.asyncio import Redis
from redis.asyncio.client import PubSub as RedisPubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import RedisError

from .errors import PublishFailed
from .events import resync

log = logging.getLogger(__name__)

RESYNC_MESSAGE = json.dumps(resync(), separators=(",", ":"))
_KEEPALIVE = "ephemera-keepalive"
# redis-py wraps socket failures in its own ConnectionError/TimeoutError (both RedisError);
# OSError covers what slips through raw (TimeoutError is an OSError in 3.11).
_CONNECTION_ERRORS = (RedisError, OSError)


class ResilientRedisBackend(BroadcastBackend):
    def __init__(
        self,
        url: str,
        *,
        backoff_initial: float = 0.05,
        backoff_max: float = 2.0,
        ping_interval: float = 5.0,
        ping_timeout: float = 5.0,
        connect_timeout: float = 2.0,
        publish_timeout: float = 2.0,
        confirm_timeout: float = 2.0,
        resync_message: str | None = RESYNC_MESSAGE,
        sharded: bool = False,
        on_moved: Callable[[str], None] | None = None,
    ) -> None:
        # BroadcastBackend.__init__ only raises NotImplementedError: do not call it.
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._confirm_timeout = confirm_timeout
        self._resync_message = resync_message
        self._sharded = sharded
        self._on_moved = on_moved
        self._publisher: Redis = Redis.from_url(
            url,
            socket_connect_timeout=connect_timeout,
            socket_timeout=publish_timeout,
            socket_keepalive=True,
            health_check_interval=ping_interval,
            retry=Retry(ExponentialBackoff(cap=0.1, base=0.01), 1),
        )
        self._subscriber: Redis = Redis.from_url(
            url,
            socket_connect_timeout=connect_timeout,
            socket_timeout=publish_timeout,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
        )
        self._channels: set[str] = set()
        self._pubsub: RedisPubSub | None = None
        # Guards _pubsub and _channels so a (re)connect never misses a concurrent subscribe.
        self._lock = asyncio.Lock()
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._resync_pending: set[str] = set()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._listener: asyncio.Task[None] | None = None
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        return self._pubsub is not None

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._channels)

    async def connect(self) -> None:
        """Open the pub/sub connection; raises if Redis is unreachable at startup."""
        if self._listener is not None:
            raise RuntimeError("already connected")
        try:
            await self._publisher.ping()
            await self._open()
        except _CONNECTION_ERRORS:
            await self._close_clients()
            raise
        self._listener = asyncio.create_task(self._listen(), name="redis-pubsub-listener")

    async def disconnect(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        await self._drop_pubsub()
        await self._close_clients()

    async def subscribe(self, channel: str) -> None:
        """SUBSCRIBE and wait (bounded) until Redis confirms it.

        Once this returns with Redis up, anything published afterwards reaches us, so a
        caller may then read its backlog from the database without a gap. With Redis
        down it returns at once and never raises: the channel is subscribed on reconnect,
        followed by a ``resync`` event.
        """
        async with self._lock:
            self._channels.add(channel)
            pubsub = self._pubsub
            if pubsub is None:
                return
            confirmed = self._confirmations.get(channel)
            if confirmed is None:
                confirmed = asyncio.get_running_loop().create_future()
                self._confirmations[channel] = confirmed
            try:
                await self._subscribe(pubsub, channel)
            except _CONNECTION_ERRORS as exc:
                log.warning("SUBSCRIBE %s failed (%s); will subscribe on reconnect", channel, exc)
                return
        done, _ = await asyncio.wait([confirmed], timeout=self._confirm_timeout)
        if not done:
            log.warning("Redis did not confirm SUBSCRIBE %s within %ss", channel, self._confirm_timeout)

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.discard(channel)
            pubsub = self._pubsub
            if pubsub is None:
                return
            try:
                await (pubsub.sunsubscribe(channel) if self._sharded else pubsub.unsubscribe(channel))
            except _CONNECTION_ERRORS as exc:
                # The reconnect subscribes only what is still in _channels.
                log.info("UNSUBSCRIBE %s failed (%s); dropped on reconnect", channel, exc)

    async def publish(self, channel: str, message: Any) -> None:
        try:
            if self._sharded:
                await self._publisher.spublish(channel, message)
            else:
                await self._publisher.publish(channel, message)
        except _CONNECTION_ERRORS as exc:
            raise PublishFailed(channel, f"Redis unavailable: {exc}") from exc

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def _open(self) -> tuple[RedisPubSub, list[str]]:
        """Connect and SUBSCRIBE every wanted channel; returns the channels subscribed."""
        pubsub = self._subscriber.pubsub()
        try:
            await pubsub.connect()  # type: ignore[no-untyped-call]
            async with self._lock:
                channels = sorted(self._channels)
                if channels and not self._sharded:
                    await pubsub.subscribe(*channels)
                for channel in channels if self._sharded else ():
                    await self._subscribe(pubsub, channel)  # one slot per SSUBSCRIBE
                self._pubsub = pubsub
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            raise
        return pubsub, channels

    async def _subscribe(self, pubsub: RedisPubSub, channel: str) -> None:
        if self._sharded:
            await pubsub.ssubscribe(channel)
        else:
            await pubsub.subscribe(channel)

    async def _drop_pubsub(self) -> None:
        async with self._lock:
            pubsub, self._pubsub = self._pubsub, None
            # Waiters would only time out; the channel comes back with the reconnect.
            for future in self._confirmations.values():
                if not future.done():
                    future.set_result(None)
            self._confirmations.clear()
            self._resync_pending.clear()
        if pubsub is not None:
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _close_clients(self) -> None:
        for client in (self._publisher, self._subscriber):
            with contextlib.suppress(*_CONNECTION_ERRORS):
                await client.aclose()

    async def _listen(self) -> None:
        delay = self._backoff_initial
        while True:
            try:
                pubsub = self._pubsub
                if pubsub is None:
                    pubsub, channels = await self._open()
                    self.reconnects += 1
                    delay = self._backoff_initial
                    log.warning("Redis pub/sub reconnected; resubscribed %d channels", len(channels))
                    if self._resync_message is not None:
                        self._resync_pending = set(channels)
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if isinstance(exc, _CONNECTION_ERRORS):
                    log.warning("Redis pub/sub connection lost (%s); retrying in %.2fs", exc, delay)
                else:
                    log.exception("Redis pub/sub listener failed; reconnecting in %.2fs", delay)
                await self._drop_pubsub()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff_max)

    async def _read(self, pubsub: RedisPubSub) -> None:
        loop = asyncio.get_running_loop()
        last_seen = loop.time()
        ping_sent_at: float | None = None
        poll = min(1.0, self._ping_interval)
        while True:
            message = await pubsub.get_message(timeout=poll)
            now = loop.time()
            if message is not None:
                last_seen, ping_sent_at = now, None
                self._handle(message)
            elif ping_sent_at is not None:
                if now - ping_sent_at > self._ping_timeout:
                    raise TimeoutError(f"no reply to PING within {self._ping_timeout}s")
            elif now - last_seen >= self._ping_interval:
                await pubsub.ping(_KEEPALIVE)
                ping_sent_at = now

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind in ("message", "smessage"):
            channel = _text(message["channel"])
            # Redis may still deliver a few messages for a channel we just left.
            if channel in self._channels:
                self._queue.put_nowait(Event(channel=channel, message=_text(message["data"])))
        elif kind == "sunsubscribe" and self._on_moved is not None:
            # Not asked for: the node gave the channel up because its slot moved to another node.
            channel = _text(message["channel"])
            if channel in self._channels:
                self._on_moved(channel)
        elif kind in ("subscribe", "ssubscribe"):
            channel = _text(message["channel"])
            future = self._confirmations.pop(channel, None)
            if future is not None and not future.done():
                future.set_result(None)
            # Only once Redis confirmed the SUBSCRIBE: a subscriber that reloads from the
            # database on resync must not miss what gets published during its reload.
            if channel in self._resync_pending and self._resync_message is not None:
                self._resync_pending.discard(channel)
                self._queue.put_nowait(Event(channel=channel, message=self._resync_message))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
