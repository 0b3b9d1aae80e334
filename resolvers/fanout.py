"""Keeping the Redis feeds in step with posts and the follow graph (hybrid mode only).

New and deleted posts go through the feed outbox: a row written in the post's transaction and
drained by `drain_outbox`, right after the commit (best effort) and by a periodic job in every
process (the guarantee). Rows are claimed with SKIP LOCKED, so processes share the work, and
every step is idempotent, so a row retried after a crash does no harm.

Graph changes are applied right after their commit. Whatever goes stale meanwhile is harmless:
reads check every cached post against SQL (it exists, and its author is still followed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Services
from core.sql import skip_locked
from models import FeedOutbox, Follow, FollowState, Post, User
from resolvers.feed_cache import FeedCache, member

log = logging.getLogger("ephemera.fanout")

BATCH = 100
CHUNK = 1000  # followers per Redis pipeline
_in_flight: set[asyncio.Task[int]] = set()


def cache(services: Services) -> FeedCache | None:
    """The Redis feed cache of this process, or None in pull mode (no Redis)."""
    if services.redis is None:
        return None
    found = services.extras.get("feed_cache")
    if found is None:
        settings = services.settings
        found = FeedCache(
            services.redis, cap=settings.feed_cache_size, ttl_seconds=settings.feed_inactive_days * 86_400
        )
        services.extras["feed_cache"] = found
    assert isinstance(found, FeedCache)
    return found


async def should_push(services: Services, session: AsyncSession, author_id: int) -> bool:
    """Small authors are pushed to their followers; counting stops at the threshold."""
    threshold = services.settings.fanout_threshold
    capped = (
        select(Follow.id)
        .where(Follow.followee_id == author_id, Follow.state == FollowState.ACCEPTED)
        .limit(threshold)
        .subquery()
    )
    followers = await session.scalar(select(func.count()).select_from(capped))
    return (followers or 0) < threshold


def kick(services: Services) -> None:
    """Drain the outbox now, off the request path; the periodic job catches whatever this misses."""
    if services.redis is None:
        return
    task = asyncio.create_task(drain_outbox(services))
    _in_flight.add(task)
    task.add_done_callback(_finished)


def _finished(task: asyncio.Task[int]) -> None:
    _in_flight.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("feed fan-out failed; the periodic job will retry", exc_info=task.exception())


async def settle(services: Services) -> None:
    """Wait for in-flight fan-outs, then drain what is left (tests call this instead of sleeping)."""
    while _in_flight:
        await asyncio.gather(*list(_in_flight), return_exceptions=True)
    await drain_outbox(services)


async def drain_outbox(services: Services) -> int:
    feeds = cache(services)
    if feeds is None:
        return 0
    done = 0
    while True:
        async with services.db.write() as session:
            stmt = select(FeedOutbox).order_by(FeedOutbox.id).limit(BATCH)
            stmt = skip_locked(stmt, services.db)
            items = list(await session.scalars(stmt))
            if not items:
                return done
            for item in items:
                await _apply(services, feeds, session, item)
            # Deleted only after Redis took the change: a crash before this line retries the row.
            await session.execute(delete(FeedOutbox).where(FeedOutbox.id.in_([i.id for i in items])))
        done += len(items)


async def _apply(services: Services, feeds: FeedCache, session: AsyncSession, item: FeedOutbox) -> None:
    if item.kind == "post":
        pushed = await session.scalar(select(Post.pushed).where(Post.id == item.post_id))
        if not pushed:
            return  # deleted meanwhile, or an author whose posts are pulled at read time
    cutoff = services.clock.now() - timedelta(days=services.settings.feed_inactive_days)
    stmt = (
        select(Follow.follower_id, User.last_active_at >= cutoff)
        .join(User, User.id == Follow.follower_id)
        .where(Follow.followee_id == item.author_id, Follow.state == FollowState.ACCEPTED)
    )
    followers = (await session.execute(stmt)).all()
    if item.kind == "delete":
        for chunk in _chunks([f for f, _ in followers]):
            await feeds.remove_post(chunk, item.post_id, item.author_id)
        return
    entry = [member(item.post_id, item.author_id)]
    for chunk in _chunks([f for f, active in followers if active]):
        await feeds.push((follower, entry, None) for follower in chunk)
    # Inactive followers are skipped; dropping their set makes their next read rebuild it from SQL.
    for chunk in _chunks([f for f, active in followers if not active]):
        await feeds.drop(chunk)


def _chunks(items: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def on_follow(services: Services, follower_id: int, followee_id: int) -> None:
    """An accepted follow: the followee's recent pushed posts join the follower's feed."""
    await on_followers_accepted(services, followee_id, [follower_id])


async def on_followers_accepted(services: Services, followee_id: int, follower_ids: Iterable[int]) -> None:
    feeds = cache(services)
    followers = list(follower_ids)
    if feeds is None or not followers:
        return
    stmt = (
        select(Post.id)
        .where(Post.author_id == followee_id, Post.pushed.is_(True))
        .order_by(Post.id.desc())
        .limit(feeds.cap)
    )
    async with services.db.read() as session:
        ids = list(await session.scalars(stmt))
    if not ids:
        return
    # Older posts of the followee are not copied: the set is complete only down to the last one.
    floor = ids[-1] if len(ids) == feeds.cap else None
    members = [member(post_id, followee_id) for post_id in ids]
    try:
        for chunk in _chunks(followers):
            await feeds.push((follower, members, floor) for follower in chunk)
    except RedisError:
        # The follow is committed; the follower's set misses these posts until it is rebuilt.
        log.warning("feed backfill failed for followers of %s", followee_id, exc_info=True)


async def on_unfollow(services: Services, pairs: Iterable[tuple[int, int]]) -> None:
    """(follower, followee) pairs that ended, by unfollow or block."""
    feeds = cache(services)
    if feeds is None:
        return
    try:
        await feeds.remove_author(pairs)
    except RedisError:
        # Harmless: reads check that every cached post's author is still followed.
        log.warning("feed cleanup after an unfollow failed", exc_info=True)
