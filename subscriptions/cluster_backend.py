"""A broadcaster backend over a Redis Cluster: each channel lives on the node that owns its slot.

Redis 7 has sharded pub/sub (SPUBLISH/SSUBSCRIBE): a message travels only to the node owning the
channel's slot and its replicas, so pub/sub traffic spreads over the cluster like keys do. Older
servers broadcast every PUBLISH to every node; there the same placement works with plain
SUBSCRIBE. Either way a channel is subscribed on its slot's node through one
ResilientRedisBackend per node, which reconnects to that node and then emits ``resync``.

When ownership changes (a replica promoted after its primary failed, a slot migrated), the node
that held a channel is gone or has given the channel up. A supervisor notices (a node listener is
disconnected, a server-sent SUNSUBSCRIBE, a channel that could not be placed), refreshes the slot
map, moves each channel to its new owner and emits ``resync`` on it once the new subscription is
confirmed: whatever was published meanwhile is lost to live delivery, never to the database, and
subscribers reload it (conversationEvents replays with afterSeq).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from broadcaster import BroadcastBackend, Event
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from .errors import PublishFailed
from .redis_backend import RESYNC_MESSAGE, ResilientRedisBackend

log = logging.getLogger(__name__)

_CONNECTION_ERRORS = (RedisError, OSError)


def _node_url(url: str, node: str) -> str:
    """The cluster URL (credentials, TLS, options) pointed at one node, `host:port`."""
    parts = urlsplit(url)
    scheme = parts.scheme.removesuffix("+cluster")
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{node}" if userinfo else node
    return urlunsplit(parts._replace(scheme=scheme, netloc=netloc, path=""))


class ClusterRedisBackend(BroadcastBackend):
    def __init__(self, url: str, *, check_interval: float = 1.0, **node_options: Any) -> None:
        # BroadcastBackend.__init__ only raises NotImplementedError: do not call it.
        self._url = url
        self._check_interval = check_interval
        self._node_options = node_options
        self._cluster = RedisCluster.from_url(
            _node_url(url, urlsplit(url).netloc.rpartition("@")[2]),
            socket_connect_timeout=2.0,
            socket_timeout=2.0,
        )
        self.sharded = True
        self._nodes: dict[str, ResilientRedisBackend] = {}
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._placed: dict[str, str | None] = {}  # channel -> node subscribed on (None: not yet)
        self._stale: set[str] = set()  # given up by their node: to subscribe where they live now
        self._lock = asyncio.Lock()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._unsettled = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self.moves = 0

    @property
    def placement(self) -> dict[str, str | None]:
        return dict(self._placed)

    async def connect(self) -> None:
        """Read the slot map; raises if no node answers at start-up."""
        try:
            await self._cluster.initialize()
            info = await self._cluster.info("server")
        except _CONNECTION_ERRORS:
            await self._cluster.aclose()
            raise
        major = int(str(info.get("redis_version", "0")).split(".")[0]) if isinstance(info, dict) else 0
        self.sharded = major >= 7
        if not self.sharded:
            log.warning("Redis %s has no sharded pub/sub: every PUBLISH reaches every node", major)
        self._supervisor = asyncio.create_task(self._supervise(), name="redis-cluster-pubsub")

    async def disconnect(self) -> None:
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        async with self._lock:
            for name in list(self._nodes):
                await self._drop_node(name)
            self._placed.clear()
        await self._cluster.aclose()

    async def subscribe(self, channel: str) -> None:
        """SSUBSCRIBE on the channel's node, confirmed (see ResilientRedisBackend.subscribe).
        When that node cannot be reached, the channel is placed later, followed by ``resync``."""
        async with self._lock:
            self._placed[channel] = None
            if not await self._place(channel):
                self._unsettled.set()

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            node = self._placed.pop(channel, None)
            self._stale.discard(channel)
            if node is not None and node in self._nodes:
                await self._nodes[node].unsubscribe(channel)
                if not self._nodes[node].channels:
                    await self._drop_node(node)

    async def publish(self, channel: str, message: Any) -> None:
        try:
            await self._cluster.execute_command("SPUBLISH" if self.sharded else "PUBLISH", channel, message)
        except _CONNECTION_ERRORS as exc:
            raise PublishFailed(channel, f"Redis Cluster unavailable: {exc}") from exc

    async def next_published(self) -> Event:
        return await self._queue.get()

    def _owner(self, channel: str) -> str:
        node = self._cluster.get_node_from_key(channel)
        if node is None:
            raise RedisError(f"no node owns the slot of {channel!r}")
        return str(node.name)

    def _owner_or_none(self, channel: str) -> str | None:
        try:
            return self._owner(channel)
        except RedisError:
            return None  # its slot has no node right now: moved once it has one

    async def _place(self, channel: str) -> bool:
        """Subscribe `channel` on its owner (under the lock); False when that failed."""
        try:
            owner = self._owner(channel)
            listener = await self._listener(owner)
        except _CONNECTION_ERRORS as exc:
            log.warning("cannot subscribe %s on its Redis Cluster node yet (%s)", channel, exc)
            return False
        await listener.subscribe(channel)
        self._placed[channel] = owner
        return True

    async def _listener(self, node: str) -> ResilientRedisBackend:
        listener = self._nodes.get(node)
        if listener is None:
            listener = ResilientRedisBackend(
                _node_url(self._url, node),
                sharded=self.sharded,
                on_moved=self._moved,
                **self._node_options,
            )
            await listener.connect()
            self._nodes[node] = listener
            self._pumps[node] = asyncio.create_task(self._pump(node, listener), name=f"pubsub-{node}")
        return listener

    def _moved(self, channel: str) -> None:
        self._stale.add(channel)
        self._unsettled.set()

    async def _pump(self, node: str, listener: ResilientRedisBackend) -> None:
        while True:
            event = await listener.next_published()
            # A channel that moved away may still get a message or two from its old node.
            if self._placed.get(event.channel) == node:
                self._queue.put_nowait(event)

    async def _drop_node(self, node: str) -> None:
        pump = self._pumps.pop(node, None)
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        listener = self._nodes.pop(node, None)
        if listener is not None:
            await listener.disconnect()

    async def _supervise(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._unsettled.wait(), self._check_interval)
            self._unsettled.clear()
            try:
                if self._needs_check():
                    await self._rebalance()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("Redis Cluster pub/sub check failed (%s); retrying", exc)
                self._unsettled.set()
                await asyncio.sleep(self._check_interval)

    def _needs_check(self) -> bool:
        return (
            bool(self._stale)
            or any(node is None for node in self._placed.values())
            or any(not listener.connected for listener in self._nodes.values())
        )

    async def _rebalance(self) -> None:
        """Refresh the slot map and move every channel whose owner changed."""
        await self._cluster.nodes_manager.initialize()
        async with self._lock:
            moved = [
                (channel, node)
                for channel, node in sorted(self._placed.items())
                if node is None or channel in self._stale or node != self._owner_or_none(channel)
            ]
            self._stale.clear()
            for channel, old in moved:
                if old is not None and old in self._nodes:
                    await self._nodes[old].unsubscribe(channel)
                if not await self._place(channel):
                    self._placed[channel] = None
                    self._unsettled.set()
                    continue
                self.moves += 1
                log.warning("pub/sub channel %s now on Redis Cluster node %s", channel, self._placed[channel])
                # Whatever was published while the channel had no live subscription is gone.
                self._queue.put_nowait(Event(channel=channel, message=RESYNC_MESSAGE))
            for node in [name for name, listener in self._nodes.items() if not listener.channels]:
                await self._drop_node(node)
