"""Sliding-window limits, reserved before the work they limit: in process by default, in Redis when
configured so that instances share them.

`reserve(key, limit, window, n)` atomically checks that `n` more events fit in the window and
records them, or records nothing and says how long until they would fit. Checking and recording in
one step means concurrent requests cannot all pass a check that only one of them should: 50
parallel wrong passwords get at most `limit` password checks. A reservation whose work turned out
not to count (a successful log-in) is `release`d.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from redis.exceptions import RedisError

from core.clock import Clock
from core.errors import RateLimited

log = logging.getLogger("ephemera.ratelimit")

if TYPE_CHECKING:
    from core.redis_client import RedisClient


@dataclass(frozen=True)
class Reservation:
    key: str
    members: tuple[str, ...]


class RateLimiter(Protocol):
    async def reserve(self, key: str, limit: int, window: float, n: int = 1) -> Reservation | float:
        """The reservation, or the seconds until `n` more events would fit."""
        ...

    async def release(self, reservation: Reservation) -> None: ...

    async def reset(self, key: str) -> None: ...


_serial = itertools.count()
_process = secrets.token_hex(4)  # members from different processes never coincide


def _members(now: float, n: int) -> tuple[str, ...]:
    return tuple(f"{now:.6f}:{_process}:{next(_serial)}" for _ in range(n))


class MemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._events: dict[str, deque[tuple[float, str]]] = {}

    async def reserve(self, key: str, limit: int, window: float, n: int = 1) -> Reservation | float:
        # No await between the check and the record: atomic on the event loop.
        now = self._clock.now().timestamp()
        events = self._events.get(key) or deque()
        while events and events[0][0] <= now - window:
            events.popleft()
        if len(events) + n > limit:
            if events:
                self._events[key] = events
            return max(events[0][0] + window - now, 0.0) if events else window
        members = _members(now, n)
        events.extend((now, member) for member in members)
        self._events[key] = events
        return Reservation(key, members)

    async def release(self, reservation: Reservation) -> None:
        events = self._events.get(reservation.key)
        if events:
            gone = set(reservation.members)
            self._events[reservation.key] = deque(e for e in events if e[1] not in gone)

    async def reset(self, key: str) -> None:
        self._events.pop(key, None)


# KEYS[1] the window's sorted set; ARGV: now, window, limit, members...
_RESERVE = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local n = #ARGV - 3
if redis.call('ZCARD', key) + n > limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if oldest[2] then return tostring(tonumber(oldest[2]) + window - now) end
  return tostring(window)
end
for i = 4, #ARGV do redis.call('ZADD', key, now, ARGV[i]) end
redis.call('EXPIRE', key, math.ceil(window) + 1)
return 'ok'
"""


class RedisRateLimiter:
    """Fails open: while Redis is unreachable nothing is limited (and a warning is logged), because
    refusing every mutation during a cache outage would hurt more than a short unlimited window."""

    def __init__(self, redis: RedisClient, clock: Clock, prefix: str = "rl:") -> None:
        self._redis = redis
        self._clock = clock
        self._prefix = prefix
        self._script = redis.register_script(_RESERVE)

    async def reserve(self, key: str, limit: int, window: float, n: int = 1) -> Reservation | float:
        now = self._clock.now().timestamp()
        members = _members(now, n)
        try:
            answer = await self._script(keys=[self._prefix + key], args=[now, window, limit, *members])
        except RedisError as exc:
            log.warning("rate limits unavailable (%s); not limiting", exc)
            return Reservation(key, ())
        text = answer.decode() if isinstance(answer, bytes) else str(answer)
        return Reservation(key, members) if text == "ok" else max(float(text), 0.0)

    async def release(self, reservation: Reservation) -> None:
        if not reservation.members:
            return
        try:
            await self._redis.zrem(self._prefix + reservation.key, *reservation.members)
        except RedisError as exc:
            log.warning("rate limits unavailable (%s); not releasing", exc)

    async def reset(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except RedisError as exc:
            log.warning("rate limits unavailable (%s); not resetting", exc)


async def reserve(
    limiter: RateLimiter, key: str, limit: int, window: float, message: str, n: int = 1
) -> Reservation:
    """Reserve `n` events under `key`, or raise RATE_LIMITED with when to retry."""
    reserved = await limiter.reserve(key, limit, window, n)
    if not isinstance(reserved, Reservation):
        raise RateLimited(message, retry_after=reserved)
    return reserved
