"""Keeping the Redis feeds in step with posts and the follow graph (hybrid mode only).

Every change that moves a feed writes an outbox row in its own transaction (core/outbox.py):
a new or deleted post, follows that became accepted, follows that ended. The drain runs the
handlers below after the commit, with no transaction open; each is idempotent, so a row retried
after a crash does no harm. Whatever goes stale meanwhile is harmless: reads check every cached
post against SQL (it exists, its author is still followed, no block stands between them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Services
from core.unit_of_work import UnitOfWork
from models import Follow, FollowState, Post, User
from resolvers.feed.active import active_among
from resolvers.feed.cache import FeedCache, member

log = logging.getLogger("ephemera.fanout")

CHUNK = 1000  # followers per Redis pipeline

POSTED = "feed.post"
DELETED = "feed.delete"
FOLLOWERS_ACCEPTED = "feed.follow"
UNFOLLOWED = "feed.unfollow"


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


# What the writes queue (no-ops in pull mode: without Redis there are no cached feeds).


def post_created(work: UnitOfWork, post_id: int, author_id: int) -> None:
    if work.services.redis is not None:
        work.outbox(POSTED, {"post_id": post_id, "author_id": author_id})


def post_deleted(work: UnitOfWork, post_id: int, author_id: int) -> None:
    if work.services.redis is not None:
        work.outbox(DELETED, {"post_id": post_id, "author_id": author_id})


def followers_accepted(work: UnitOfWork, followee_id: int, follower_ids: Iterable[int]) -> None:
    followers = list(follower_ids)
    if work.services.redis is not None and followers:
        payload = {"followee_id": followee_id, "follower_ids": followers}
        work.outbox(FOLLOWERS_ACCEPTED, payload, before_answer=True)


def follows_ended(work: UnitOfWork, pairs: Iterable[tuple[int, int]]) -> None:
    """(follower, followee) pairs that ended, by unfollow or block."""
    ended = [list(pair) for pair in pairs]
    if work.services.redis is not None and ended:
        work.outbox(UNFOLLOWED, {"pairs": ended}, before_answer=True)


# The outbox handlers.


async def push_post(services: Services, payload: dict[str, Any]) -> None:
    feeds = cache(services)
    if feeds is None:
        return
    post_id, author_id = int(payload["post_id"]), int(payload["author_id"])
    async with services.db.read() as session:
        pushed = await session.scalar(select(Post.pushed).where(Post.id == post_id))
        if not pushed:
            return  # deleted meanwhile, or an author whose posts are pulled at read time
        followers = await _followers(services, session, author_id)
    entry = [member(post_id, author_id)]
    for chunk in _chunks([f for f, active in followers if active]):
        await feeds.push((follower, entry, None) for follower in chunk)
    # Inactive followers are skipped; dropping their set makes their next read rebuild it from SQL.
    for chunk in _chunks([f for f, active in followers if not active]):
        await feeds.drop(chunk)


async def remove_post(services: Services, payload: dict[str, Any]) -> None:
    feeds = cache(services)
    if feeds is None:
        return
    post_id, author_id = int(payload["post_id"]), int(payload["author_id"])
    async with services.db.read() as session:
        followers = await _followers(services, session, author_id)
    for chunk in _chunks([f for f, _ in followers]):
        await feeds.remove_post(chunk, post_id, author_id)


async def _followers(services: Services, session: AsyncSession, author_id: int) -> list[tuple[int, bool]]:
    """(follower, active) for the author's accepted followers (resolvers/feed/active.py)."""
    stmt = (
        select(Follow.follower_id, User.last_active_at)
        .join(User, User.id == Follow.follower_id)
        .where(Follow.followee_id == author_id, Follow.state == FollowState.ACCEPTED)
    )
    rows = [(follower, last_active_at) for follower, last_active_at in (await session.execute(stmt)).all()]
    return await active_among(services, rows)


async def backfill(services: Services, payload: dict[str, Any]) -> None:
    """Accepted follows: the followee's recent pushed posts join each follower's feed."""
    feeds = cache(services)
    if feeds is None:
        return
    followee_id = int(payload["followee_id"])
    followers = [int(f) for f in payload["follower_ids"]]
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
    for chunk in _chunks(followers):
        await feeds.push((follower, members, floor) for follower in chunk)


async def remove_authors(services: Services, payload: dict[str, Any]) -> None:
    feeds = cache(services)
    if feeds is not None:
        await feeds.remove_author((int(follower), int(followee)) for follower, followee in payload["pairs"])


def _chunks(items: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
