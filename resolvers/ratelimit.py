"""Sliding-window counters: in-process by default, in Redis when configured so instances share them."""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Protocol

from resolvers.clock import Clock
from resolvers.errors import RateLimited

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
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - window:
            events.popleft()
        return events

    async def count(self, key: str, window: float) -> tuple[int, float]:
        events = self._trim(key, window)
        oldest_age = self._clock.now().timestamp() - events[0] if events else 0.0
        return len(events), oldest_age

    async def record(self, key: str, window: float) -> None:
        self._trim(key, window).append(self._clock.now().timestamp())

    async def reset(self, key: str) -> None:
        self._events.pop(key, None)


class RedisRateLimiter:
    def __init__(self, redis: Redis, clock: Clock, prefix: str = "rl:") -> None:
        self._redis = redis
        self._clock = clock
        self._prefix = prefix

    async def count(self, key: str, window: float) -> tuple[int, float]:
        now = self._clock.now().timestamp()
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, "-inf", now - window)
            pipe.zcard(name)
            pipe.zrange(name, 0, 0, withscores=True)
            _, count, oldest = await pipe.execute()
        oldest_age = now - float(oldest[0][1]) if oldest else 0.0
        return int(count), oldest_age

    async def record(self, key: str, window: float) -> None:
        now = self._clock.now().timestamp()
        name = self._prefix + key
        member = f"{now:.6f}:{time.perf_counter_ns()}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {member: now})
            pipe.expire(name, int(window) + 1)
            await pipe.execute()

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


async def enforce(limiter: RateLimiter, key: str, limit: int, window: float, message: str) -> None:
    count, oldest_age = await limiter.count(key, window)
    if count >= limit:
        raise RateLimited(message, retry_after=window - oldest_age)
