"""Where a ranked feed's order lives between its pages: Redis when configured, else this process.

A snapshot is the ranked post ids the first page fixed, readable by its viewer only, until it
expires (FEED_RANKED_SNAPSHOT_SECONDS on the app's clock). Each viewer has one live snapshot per
store: a new ranking replaces the last one, whose cursors then answer SNAPSHOT_EXPIRED, so first
pages cannot pile snapshots up (their number is also limited per user, in resolvers/feed/ranked.py).
Redis keeps one key per viewer, dropped at expiry. Without Redis the app runs as one process
(settings refuse several workers without it), so the process keeps them: one entry per viewer, at
most PROCESS_SNAPSHOTS, swept of the expired ones at every save. Neither writes to the database: a
ranked page is a read. A Redis outage falls back to the process, whose cursors another worker
answers with SNAPSHOT_EXPIRED (the client asks for a first page again).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass

from redis.exceptions import RedisError

from core.context import Services

log = logging.getLogger("ephemera.feed")

REDIS = "r"
PROCESS = "p"
PROCESS_SNAPSHOTS = 10_000


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: int
    expires: float  # the app clock's timestamp
    post_ids: list[int]


class ProcessSnapshots:
    """The viewers' snapshots of this process, oldest save first (all live as long, so the oldest
    expire first: the sweep stops at the first live one)."""

    def __init__(self, limit: int = PROCESS_SNAPSHOTS) -> None:
        self.limit = limit
        self._by_viewer: OrderedDict[int, Snapshot] = OrderedDict()

    def save(self, viewer: int, snapshot: Snapshot, now: float) -> None:
        self._by_viewer.pop(viewer, None)
        self._by_viewer[viewer] = snapshot
        while self._by_viewer:
            oldest = next(iter(self._by_viewer.values()))
            if oldest.expires > now and len(self._by_viewer) <= self.limit:
                break
            self._by_viewer.popitem(last=False)

    def get(self, viewer: int) -> Snapshot | None:
        return self._by_viewer.get(viewer)

    def __len__(self) -> int:
        return len(self._by_viewer)


def process_snapshots(services: Services) -> ProcessSnapshots:
    found = services.extras.get("ranked_snapshots")
    if found is None:
        found = services.extras["ranked_snapshots"] = ProcessSnapshots()
    assert isinstance(found, ProcessSnapshots)
    return found


def _key(viewer: int) -> str:
    return f"ranked:{viewer}"


async def save(services: Services, viewer: int, snapshot_id: int, post_ids: list[int]) -> str:
    """Keep the order; returns the store that holds it (a Redis outage falls back to the process)."""
    now = services.clock.now().timestamp()
    ttl = services.settings.feed_ranked_snapshot_seconds
    snapshot = Snapshot(snapshot_id, now + ttl, post_ids)
    if services.redis is not None:
        value = json.dumps(
            {"id": snapshot_id, "expires": snapshot.expires, "ids": post_ids}, separators=(",", ":")
        )
        try:
            await services.redis.set(_key(viewer), value, ex=ttl)
            return REDIS
        except RedisError:
            log.warning("ranked feed snapshot not kept in Redis; keeping it in this process", exc_info=True)
    process_snapshots(services).save(viewer, snapshot, now)
    return PROCESS


async def load(services: Services, store: str, viewer: int, snapshot_id: int) -> list[int] | None:
    """The viewer's ranked ids, or None once the snapshot expired (or never was theirs); cursors of
    earlier releases, whose snapshots were database rows (store "d"), find none."""
    now = services.clock.now().timestamp()
    found: Snapshot | None = None
    if store == REDIS:
        found = await _from_redis(services, viewer)
    elif store == PROCESS:
        found = process_snapshots(services).get(viewer)
    if found is None or found.snapshot_id != snapshot_id or found.expires <= now:
        return None
    return found.post_ids


async def _from_redis(services: Services, viewer: int) -> Snapshot | None:
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
    return Snapshot(int(found["id"]), float(found["expires"]), [int(post_id) for post_id in found["ids"]])
