"""Read replicas: which engine serves a request's reads, and how far behind each replica is.

Positions are PostgreSQL WAL positions (LSNs), compared as integers.

- A monitor polls every `interval`: the primary's `pg_current_wal_lsn()`, then each replica's
  `pg_last_wal_replay_lsn()`. A replica's lag is how long ago the primary was last seen at a
  position the replica has replayed (0 once it replayed all the primary had): a replica cut off
  from its primary shows a growing lag even though its own clock says nothing. A replica that does
  not answer, or lags more than `max_lag`, is skipped until a later poll finds it well; one whose
  connection breaks during a request is skipped at once.
- Read-your-writes: after a signed-in user's write commits, and before its live events are
  published (a client refetches on them), the primary's WAL insert position is
  kept in Redis under `rw:<user>` for `max_lag` plus a margin. That user's requests read from a
  replica only once the monitor has seen it replay past that position, else from the primary.
  After the key expires every usable replica is past it (it lags less than `max_lag`).
- Without a usable replica, reads go to the primary: replicas add capacity, never a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.observability import READ_ROUTES, REPLICA_LAG
from core.redis_client import RedisClient

log = logging.getLogger("ephemera.replicas")

# Set-if-greater: two writes of one user racing must not move the mark back. LSNs are kept as
# 16 hex digits, so string order is position order (Lua numbers lose precision past 2^53).
_MARK = """
local current = redis.call('GET', KEYS[1])
if (not current) or current < ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


def parse_lsn(value: str) -> int:
    """`16/B374D848` -> an integer that orders like the position."""
    high, _, low = value.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


class WriteMarks:
    """Each user's last commit position, shared by every process through Redis."""

    def __init__(self, redis: RedisClient, ttl_seconds: float) -> None:
        self.redis = redis
        self.ttl_ms = max(1, math.ceil(ttl_seconds * 1000))
        self._mark = redis.register_script(_MARK)

    @staticmethod
    def key(user_id: int) -> str:
        return f"rw:{user_id}"

    async def put(self, user_id: int, lsn: int) -> None:
        try:
            await self._mark(keys=[self.key(user_id)], args=[f"{lsn:016x}", self.ttl_ms])
        except RedisError as exc:
            log.warning("could not record a write position for read-your-writes (%s)", exc)

    async def get(self, user_id: int) -> int | None:
        """The user's last commit position; None when they wrote nothing lately. With Redis down
        every position is assumed unseen (the primary answers)."""
        try:
            value = await self.redis.get(self.key(user_id))
        except RedisError as exc:
            log.warning("read-your-writes marks unavailable (%s); reading the primary", exc)
            return 1 << 64
        if value is None:
            return None
        return int(value.decode() if isinstance(value, bytes) else str(value), 16)


@dataclass
class Replica:
    name: str  # host:port/database, for logs and metrics
    engine: AsyncEngine
    reads: AsyncEngine  # the same, in autocommit
    replayed: int | None = None  # last position seen replayed; None: did not answer
    lag: float = math.inf
    broken: bool = False  # a request found its connection broken; cleared by the next good poll


@dataclass
class ReadRouter:
    primary: AsyncEngine
    replicas: Sequence[Replica]
    marks: WriteMarks
    max_lag: float
    interval: float
    # (time.monotonic(), primary position) samples, oldest first, spanning a little over max_lag.
    _samples: deque[tuple[float, int]] = field(default_factory=deque)
    _monitor: asyncio.Task[None] | None = None
    _polled: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def open(
        cls,
        primary: AsyncEngine,
        urls: Sequence[str],
        marks_redis: RedisClient,
        *,
        max_lag: float,
        interval: float,
        pool_size: int,
    ) -> ReadRouter:
        replicas = []
        for url in urls:
            parsed = make_url(url)
            engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=0, pool_timeout=30, connect_args={"timeout": 5}
            )
            replica = Replica(
                f"{parsed.host}:{parsed.port or 5432}/{parsed.database}",
                engine,
                engine.execution_options(isolation_level="AUTOCOMMIT"),
            )
            _skip_when_broken(replica)
            replicas.append(replica)
        # A mark must outlive the time any usable replica needs to pass it.
        marks = WriteMarks(marks_redis, max_lag + 2 * interval + 1)
        return cls(primary, replicas, marks, max_lag, interval)

    def usable(self) -> list[Replica]:
        return [r for r in self.replicas if not r.broken and r.replayed is not None and r.lag <= self.max_lag]

    async def choose(self, user_id: int | None) -> AsyncEngine | None:
        """A replica's autocommit engine for this reader, or None for the primary."""
        candidates = self.usable()
        if candidates and user_id is not None:
            mark = await self.marks.get(user_id)
            if mark is not None:
                candidates = [r for r in candidates if (r.replayed or 0) >= mark]
        if not candidates:
            READ_ROUTES.labels("primary").inc()
            return None
        READ_ROUTES.labels("replica").inc()
        return random.choice(candidates).reads

    async def remember_write(self, user_id: int) -> None:
        """After `user_id`'s commit: where the primary's WAL is now, so their reads wait for it."""
        async with self.primary.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            position = await conn.scalar(text("SELECT pg_current_wal_insert_lsn()::text"))
        await self.marks.put(user_id, parse_lsn(str(position)))

    def start(self) -> None:
        if self._monitor is None:
            self._monitor = asyncio.create_task(self._watch(), name="replica-monitor")

    async def wait_polled(self) -> None:
        """Until a check that started after this call has finished (tests, instead of sleeping):
        the one running now may have asked its questions before."""
        for _ in range(2):
            self._polled.clear()
            await self._polled.wait()

    async def close(self) -> None:
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
            self._monitor = None
        for replica in self.replicas:
            await replica.engine.dispose()

    async def _watch(self) -> None:
        while True:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("replica check failed")
            self._polled.set()
            await asyncio.sleep(self.interval)

    async def poll(self) -> None:
        now = time.monotonic()
        try:
            primary = await _position(self.primary, "SELECT pg_current_wal_lsn()::text", self.interval + 1)
        except Exception as exc:
            log.warning("the primary's WAL position is unknown (%s); reading the primary", exc)
            for replica in self.replicas:
                replica.replayed = None
            return
        self._samples.append((now, primary))
        horizon = now - (self.max_lag + 3 * self.interval)
        while len(self._samples) > 1 and self._samples[1][0] < horizon:
            self._samples.popleft()
        await asyncio.gather(*(self._check(replica, now) for replica in self.replicas))

    async def _check(self, replica: Replica, now: float) -> None:
        was_usable = replica in self.usable()
        try:
            replayed = await _position(
                replica.engine, "SELECT pg_last_wal_replay_lsn()::text", self.interval + 1
            )
        except Exception as exc:
            if replica.replayed is not None or not replica.broken:
                log.warning("replica %s does not answer (%s); reading elsewhere", replica.name, exc)
            replica.replayed, replica.lag, replica.broken = None, math.inf, True
            # Its pooled connections are dead: a fresh pool once it answers again.
            await replica.engine.dispose()
        else:
            replica.replayed, replica.broken = replayed, False
            replica.lag = self._lag(replayed, now)
        REPLICA_LAG.labels(replica.name).set(replica.lag)
        if was_usable != (replica in self.usable()):
            state = "in use" if not was_usable else f"skipped (lag {replica.lag:.1f} s)"
            log.warning("replica %s is %s", replica.name, state)

    def _lag(self, replayed: int, now: float) -> float:
        """Seconds since the primary was last seen at a position this replica has replayed."""
        if replayed >= self._samples[-1][1]:
            return 0.0
        seen_at = [at for at, position in self._samples if position <= replayed]
        return now - seen_at[-1] if seen_at else math.inf


def _skip_when_broken(replica: Replica) -> None:
    """A connection that breaks during a request takes its replica out of use until the next poll."""

    @event.listens_for(replica.engine.sync_engine, "handle_error")
    def on_error(context: Any) -> None:
        if context.is_disconnect:
            replica.broken = True


async def _position(engine: AsyncEngine, query: str, seconds: float) -> int:
    async with asyncio.timeout(seconds), engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        value = await conn.scalar(text(query))
    if value is None:
        raise RuntimeError("not a streaming replica (no WAL replay position)")
    return parse_lsn(str(value))
