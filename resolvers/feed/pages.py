"""The home feed: the viewer's own posts and those of accounts they follow, newest first.

Two stores give the same pages. `pull_page` is one indexed SQL query (the embedded default and
the fallback). `hybrid_page` (with Redis) reads the viewer's pushed posts from their sorted set
and merges, in one SQL statement, the posts pulled at read time (large authors and the viewer's
own) while checking each cached post still exists and its author is still followed.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import BigInteger, Select, any_, bindparam, or_, select, union_all
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

from core.context import Reader, RequestContext, Services
from models import Follow, FollowState, Post
from resolvers.feed import fanout
from resolvers.feed.active import mark_active
from resolvers.feed.cache import FeedCache, member
from resolvers.graph.mutes import muted
from resolvers.paging import Page, PageArgs, page_from_rows
from resolvers.posts.posts import PostById
from resolvers.visibility_sql import interacts

log = logging.getLogger("ephemera.feed")
MAX_ROUNDS = 4


# How a page's posts are read: as ORM objects (`orm_posts`, strawberry's path) or as named Core
# rows with the same attribute names (`core_posts`, the compiled path). The selection is the same.
Fetch = Callable[[Reader, "Select[Post]", Mapping[str, Any]], Awaitable[list[Any]]]
NO_PARAMS: Mapping[str, Any] = {}


async def orm_posts(read: Reader, stmt: Select[Post], params: Mapping[str, Any] = NO_PARAMS) -> list[Any]:
    async with read() as session:
        return list(await session.scalars(stmt, params))


# Each statement's Core form, built once for the statements built once (`_pull_statement`).
_AS_CORE: weakref.WeakKeyDictionary[Select[Any], Select[Any]] = weakref.WeakKeyDictionary()


async def core_posts(read: Reader, stmt: Select[Post], params: Mapping[str, Any] = NO_PARAMS) -> list[Any]:
    """The same statement's columns as tuples: no ORM objects, no identity map."""
    core = _AS_CORE.get(stmt)
    if core is None:
        core = _AS_CORE[stmt] = stmt.with_only_columns(*Post.__table__.c)
    async with read() as session:
        return list((await session.execute(core, params)).all())


async def feed_page(ctx: RequestContext, args: PageArgs) -> Page[Post]:
    rows = await feed_rows(ctx, args, orm_posts)
    for post in rows:
        PostById(ctx).prime(post.id, post)
    return page_from_rows([(post.id, post) for post in rows], args)


async def feed_rows(ctx: RequestContext, args: PageArgs, fetch: Fetch) -> list[Any]:
    """Up to first + 1 posts of the viewer's feed, read by `fetch`."""
    viewer = ctx.require_viewer()
    if ctx.services.redis is None:
        return await pull_page(ctx.services, viewer, args, ctx.read, fetch)
    try:
        return await hybrid_page(ctx.services, viewer, args, ctx.read, fetch)
    except RedisError:
        # Same pages from SQL alone: a Redis outage slows the feed down but does not break it.
        log.warning("feed cache unavailable; serving the feed from SQL", exc_info=True)
        return await pull_page(ctx.services, viewer, args, ctx.read, fetch)


def _followees(viewer: Any) -> Select[int]:
    """Accepted followees whose posts the viewer has not muted, with no block either way and not
    suspended. A block deletes the follows between the pair in the same transaction; the feed
    checks anyway (defence in depth)."""
    return select(Follow.followee_id).where(
        Follow.follower_id == viewer,
        Follow.state == FollowState.ACCEPTED,
        interacts(viewer, Follow.followee_id),
        ~muted(viewer, Follow.followee_id, stories=False),
    )


def _below(after: Any) -> ColumnElement[bool]:
    return Post.id < after if after is not None else Post.id.is_not(None)


# The pull statement by (first, paged), built once: the viewer and the cursor are bound parameters.
_VIEWER = bindparam("viewer", type_=BigInteger)
_AFTER = bindparam("after", type_=BigInteger)
_PULL: dict[tuple[int, bool], Select[Post]] = {}


def _pull_statement(first: int, paged: bool) -> Select[Post]:
    stmt = _PULL.get((first, paged))
    if stmt is None:
        stmt = _PULL[first, paged] = (
            select(Post)
            .where(
                or_(Post.author_id == _VIEWER, Post.author_id.in_(_followees(_VIEWER))),
                _below(_AFTER if paged else None),
            )
            .order_by(Post.id.desc())
            .limit(first + 1)
        )
    return stmt


async def pull_page(
    services: Services, viewer: int, args: PageArgs, read: Reader | None = None, fetch: Fetch = orm_posts
) -> list[Any]:
    """Up to first + 1 posts (the extra one tells whether a next page exists)."""
    stmt = _pull_statement(args.first, args.after is not None)
    return await fetch(read or services.db.read, stmt, {"viewer": viewer, "after": args.after})


async def hybrid_page(
    services: Services, viewer: int, args: PageArgs, read: Reader | None = None, fetch: Fetch = orm_posts
) -> list[Any]:
    feeds = fanout.cache(services)
    assert feeds is not None
    want = args.first + 1
    candidates: list[int] = []
    below, rebuilt = args.after, False
    for _ in range(MAX_ROUNDS):
        window = await feeds.read(viewer, below, want)
        if not window.built:
            if rebuilt:
                break
            await rebuild(services, feeds, viewer)
            rebuilt = True
            continue
        candidates += window.post_ids
        rows = await _merge(
            read or services.db.read, viewer, candidates, args.after, want, fetch, not services.db.is_sqlite
        )
        # The cache answers exactly for ids it has seen all of: down to its floor, or to the last read.
        covered = window.floor if window.reached_bottom else window.post_ids[-1]
        if len(rows) == want and rows[-1].id >= covered:
            return rows
        if window.reached_bottom:
            if window.floor == 0:
                return rows
            break  # the page reaches below what the cache holds: SQL answers it
        # Cached posts were deleted or unfollowed since: read further down the set.
        below = window.post_ids[-1]
    return await pull_page(services, viewer, args, read, fetch)


async def _merge(
    read: Reader,
    viewer: int,
    candidates: list[int],
    after: int | None,
    want: int,
    fetch: Fetch,
    postgres: bool,
) -> list[Any]:
    stmt = _merge_statement(want, after is not None, postgres)
    return await fetch(read, stmt, {"viewer": viewer, "after": after, "candidates": candidates})


# The merge statement by (want, paged, postgres), built once: viewer, cursor and the cached
# candidates as bound parameters (one array on PostgreSQL, core/sql.py `id_in`'s form).
_MERGE: dict[tuple[int, bool, bool], Select[Post]] = {}


def _merge_statement(want: int, paged: bool, postgres: bool) -> Select[Post]:
    stmt = _MERGE.get((want, paged, postgres))
    if stmt is None:
        followees = _followees(_VIEWER)
        below = _below(_AFTER if paged else None)
        cached = (
            Post.id == any_(bindparam("candidates", type_=postgresql.ARRAY(BigInteger)))
            if postgres
            else Post.id.in_(bindparam("candidates", expanding=True))
        )
        parts = [
            select(Post.id).where(cached, Post.author_id.in_(followees)),
            select(Post.id).where(Post.author_id == _VIEWER, below).order_by(Post.id.desc()).limit(want),
            select(Post.id)
            .where(Post.pushed.is_(False), Post.author_id.in_(followees), below)
            .order_by(Post.id.desc())
            .limit(want),
        ]
        ids = union_all(*(select(part.subquery().c.id) for part in parts))
        stmt = _MERGE[want, paged, postgres] = (
            select(Post).where(Post.id.in_(ids), below).order_by(Post.id.desc()).limit(want)
        )
    return stmt


async def rebuild(services: Services, feeds: FeedCache, viewer: int) -> None:
    """A missing or evicted set, filled from SQL; reading the feed also counts as activity
    (stamped in Redis, resolvers/feed/active.py: a read writes nothing in the database)."""
    stmt = (
        select(Post.id, Post.author_id)
        .where(Post.pushed.is_(True), Post.author_id.in_(_followees(viewer)))
        .order_by(Post.id.desc())
        .limit(feeds.cap)
    )
    async with services.db.read() as session:
        rows = (await session.execute(stmt)).all()
    floor = rows[-1].id if len(rows) == feeds.cap else 0
    await feeds.build(viewer, [member(post_id, author) for post_id, author in rows], floor)
    await mark_active(services, viewer)
