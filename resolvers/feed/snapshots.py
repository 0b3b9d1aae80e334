"""Where a ranked feed's order lives between its pages: Redis when configured, else the database.

A snapshot is the ranked post ids the first page fixed, readable by its viewer only, until it
expires (FEED_RANKED_SNAPSHOT_SECONDS on the app's clock). Each viewer has one live snapshot per
store: a new ranking replaces the last one, whose cursors then answer SNAPSHOT_EXPIRED, so first
pages cannot pile snapshots up (their number is also limited per user, in resolvers/feed/ranked.py).
Redis keeps one key per viewer, dropped at expiry; the database one row per viewer.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from redis.exceptions import RedisError
from sqlalchemy import delete, select

from core.context import Reader, Services
from core.unit_of_work import unit_of_work
from models import FeedSnapshot, User

log = logging.getLogger("ephemera.feed")

REDIS = "r"
DATABASE = "d"


def _key(viewer: int) -> str:
    return f"ranked:{viewer}"


async def save(services: Services, viewer: int, snapshot_id: int, post_ids: list[int]) -> str:
    """Keep the order; returns the store that holds it (a Redis outage falls back to the database)."""
    now = services.clock.now()
    ttl = services.settings.feed_ranked_snapshot_seconds
    expires_at = now.timestamp() + ttl
    if services.redis is not None:
        value = json.dumps({"id": snapshot_id, "expires": expires_at, "ids": post_ids}, separators=(",", ":"))
        try:
            await services.redis.set(_key(viewer), value, ex=ttl)
            return REDIS
        except RedisError:
            log.warning("ranked feed snapshot not kept in Redis; keeping it in the database", exc_info=True)
    async with unit_of_work(services) as work:
        # The viewer's row serialises their rankings: two first pages at once still leave one row.
        await work.session.execute(select(User.id).where(User.id == viewer).with_for_update())
        await work.session.execute(delete(FeedSnapshot).where(FeedSnapshot.viewer_id == viewer))
        work.session.add(
            FeedSnapshot(
                id=snapshot_id,
                viewer_id=viewer,
                post_ids=post_ids,
                created_at=now,
                expires_at=datetime.fromtimestamp(expires_at, now.tzinfo),
            )
        )
    return DATABASE


async def load(
    services: Services, read: Reader, store: str, viewer: int, snapshot_id: int
) -> list[int] | None:
    """The viewer's ranked ids, or None once the snapshot expired (or never was theirs)."""
    now = services.clock.now()
    if store == REDIS:
        if services.redis is None:
            return None
        try:
            raw = await services.redis.get(_key(viewer))
        except RedisError:
            log.warning("ranked feed snapshot unreadable in Redis", exc_info=True)
            return None
        if raw is None:
            return None
        found = json.loads(raw)
        if found.get("id") != snapshot_id or found["expires"] <= now.timestamp():
            return None
        return [int(post_id) for post_id in found["ids"]]
    async with read() as session:
        row = await session.scalar(
            select(FeedSnapshot).where(FeedSnapshot.id == snapshot_id, FeedSnapshot.viewer_id == viewer)
        )
    if row is None or row.expires_at <= now:
        return None
    return [int(post_id) for post_id in row.post_ids]
