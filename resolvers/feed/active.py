"""Who reads their feed lately: what fan-out asks before pushing a post to a follower's feed.

An account is active when it logged in or read its feed within FEED_INACTIVE_DAYS. Logging in is a
write and stamps `users.last_active_at` in its own transaction; reading the feed writes nothing in
the database (a read stays a read): when it rebuilds the reader's feed set it stamps
`active:{user_id}` in Redis (the app's clock, in microseconds since the epoch), kept as long as it
can matter. Only the Redis feeds (the hybrid store) read activity, so without Redis nothing is
stamped and nothing asks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError

from core.context import Services

log = logging.getLogger("ephemera.feed")
CHUNK = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _key(user_id: int) -> str:
    return f"active:{user_id}"


async def mark_active(services: Services, user_id: int) -> None:
    """The user read their feed now. A Redis outage loses the stamp: at worst, fan-out skips them
    once and their next read rebuilds their feed from SQL."""
    if services.redis is None:
        return
    ttl = services.settings.feed_inactive_days * 86_400 + 86_400
    try:
        await services.redis.set(_key(user_id), (services.clock.now() - EPOCH) // MICROSECOND, ex=ttl)
    except RedisError:
        log.warning("feed activity not stamped in Redis", exc_info=True)


async def last_active(services: Services, user_id: int, stored: datetime) -> datetime:
    """The later of `stored` (users.last_active_at, the last log-in) and the last feed read."""
    return (await _latest(services, [(user_id, stored)]))[0][1]


async def active_among(services: Services, users: Sequence[tuple[int, datetime]]) -> list[tuple[int, bool]]:
    """(user id, active) for each (user id, users.last_active_at), in order."""
    cutoff = services.clock.now() - timedelta(days=services.settings.feed_inactive_days)
    return [(user_id, latest >= cutoff) for user_id, latest in await _latest(services, users)]


async def _latest(services: Services, users: Sequence[tuple[int, datetime]]) -> list[tuple[int, datetime]]:
    stamps: list[str | bytes | None] = []
    if services.redis is not None:
        try:
            for start in range(0, len(users), CHUNK):
                async with services.redis.pipeline(transaction=False) as pipe:
                    for user_id, _ in users[start : start + CHUNK]:
                        pipe.get(_key(user_id))
                    stamps += await pipe.execute()
        except RedisError:
            log.warning("feed activity unreadable in Redis; using log-in times", exc_info=True)
            stamps = []
    found: list[tuple[int, datetime]] = []
    for index, (user_id, stored) in enumerate(users):
        stamp = stamps[index] if index < len(stamps) else None
        read_at = EPOCH + int(stamp) * MICROSECOND if stamp is not None else None
        found.append((user_id, max(stored, read_at) if read_at is not None else stored))
    return found
