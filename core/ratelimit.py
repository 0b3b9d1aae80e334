"""Sliding-window counters: in-process by default, in Redis when configured so instances share them."""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Protocol

from redis.exceptions import RedisError

from core.clock import Clock
from core.errors import RateLimited

log = logging.getLogger("ephemera.ratelimit")

if TYPE_CHECKING:
    from redis.asyncio import Redis


class RateLimiter(Protocol):
    async def count(self, key: str, window: float) -> tuple[int, float]:
        """Events under `key` in the last `window` seconds, and the age of the oldest one."""
        ...

    async def record(self, key: str, window: float) -> None: ...

    async def reset(self, key: str) -> None: ...


class MemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._events: dict[str, deque[float]] = {}

    def _trim(self, key: str, window: float) -> deque[float]:
        now = self._clock.now().timestamp()
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - window:
            events.popleft()
        if events:
            # Keys without recent events stay out, so a long-running process does not grow.
            self._events[key] = events
        return events

    async def count(self, key: str, window: float) -> tuple[int, float]:
        events = self._trim(key, window)
        oldest_age = self._clock.now().timestamp() - events[0] if events else 0.0
        return len(events), oldest_age

    async def record(self, key: str, window: float) -> None:
        events = self._trim(key, window)
        events.append(self._clock.now().timestamp())
        self._events[key] = events

    async def reset(self, key: str) -> None:
        self._events.pop(key, None)


class RedisRateLimiter:
    """Fails open: while Redis is unreachable nothing is limited (and a warning is logged), because
    refusing every mutation during a cache outage would hurt more than a short unlimited window."""

    def __init__(self, redis: Redis, clock: Clock, prefix: str = "rl:") -> None:
        self._redis = redis
        self._clock = clock
        self._prefix = prefix

    async def count(self, key: str, window: float) -> tuple[int, float]:
        now = self._clock.now().timestamp()
        name = self._prefix + key
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(name, "-inf", now - window)
                pipe.zcard(name)
                pipe.zrange(name, 0, 0, withscores=True)
                _, count, oldest = await pipe.execute()
        except RedisError as exc:
            log.warning("rate limits unavailable (%s); not limiting", exc)
            return 0, 0.0
        oldest_age = now - float(oldest[0][1]) if oldest else 0.0
        return int(count), oldest_age

    async def record(self, key: str, window: float) -> None:
        now = self._clock.now().timestamp()
        name = self._prefix + key
        member = f"{now:.6f}:{time.perf_counter_ns()}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zadd(name, {member: now})
                pipe.expire(name, int(window) + 1)
                await pipe.execute()
        except RedisError as exc:
            log.warning("rate limits unavailable (%s); not recording", exc)

    async def reset(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except RedisError as exc:
            log.warning("rate limits unavailable (%s); not resetting", exc)


async def enforce(limiter: RateLimiter, key: str, limit: int, window: float, message: str) -> None:
    count, oldest_age = await limiter.count(key, window)
    if count >= limit:
        raise RateLimited(message, retry_after=window - oldest_age)
