"""feed(order: RANKED): the feed's recent posts, best first, in pages that stay put.

The first page takes the candidates from the same stores as the recent feed (`feed_page`: pull or
hybrid), the posts of the last FEED_RANKED_WINDOW_HOURS up to FEED_RANKED_CANDIDATES, scores them
(resolvers/feed/ranking.py) and keeps the order as a snapshot (resolvers/feed/snapshots.py). Its
cursors name the snapshot and a position in it, so later pages read the same order however likes
and comments move the scores meanwhile: nothing repeats and nothing is skipped. Posts deleted or
no longer followed since drop out at read time. A cursor whose snapshot expired, or was replaced
by the viewer's newer ranking, answers BAD_USER_INPUT with `reason: SNAPSHOT_EXPIRED`: ask for the
first page again. First pages keep a snapshot, so each user gets FEED_RANKED_FIRST_PAGES_PER_MINUTE
of them (RATE_LIMITED past that); later pages are free.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from core.context import RequestContext
from core.errors import AppError, BadInput
from core.rate_limiter import reserve
from models import Post
from resolvers.accounts.users import UserById, relationships
from resolvers.feed import ranking
from resolvers.feed import snapshots as feed_snapshots
from resolvers.feed.pages import feed_page
from resolvers.loader import unique
from resolvers.paging import MAX_KEY, RANKED_PREFIX, Page, PageArgs, decode_cursor, encode_cursor
from resolvers.posts.posts import PostById
from resolvers.visibility import can_see_content

_CURSOR = re.compile(re.escape(RANKED_PREFIX) + r"([rdp])\.([0-9]{1,19})\.([0-9]{1,5})")


class SnapshotExpired(AppError):
    code = "BAD_USER_INPUT"

    def __init__(self) -> None:
        super().__init__(
            "This ranked feed has expired: ask for its first page again (without `after`).",
            field="after",
            reason="SNAPSHOT_EXPIRED",
        )


def _cursor(store: str, snapshot_id: int, offset: int) -> str:
    return encode_cursor(f"{RANKED_PREFIX}{store}.{snapshot_id}.{offset}")


def _position(after: str) -> tuple[str, int, int]:
    key = decode_cursor(after)
    if key.isdigit():
        raise BadInput(
            "This cursor is from a list in time order, such as feed(order: RECENT), not from "
            "feed(order: RANKED): pass it with that order, or leave `after` out for a first page.",
            field="after",
        )
    found = _CURSOR.fullmatch(key)
    if found is None or int(found.group(2)) > MAX_KEY:
        raise BadInput("Malformed cursor.", field="after")
    return found.group(1), int(found.group(2)), int(found.group(3))


async def ranked_candidates(ctx: RequestContext) -> list[Post]:
    """The feed's posts of the window, best first."""
    viewer = ctx.require_viewer()
    services = ctx.services
    settings = services.settings
    now = services.clock.now()
    window = timedelta(hours=settings.feed_ranked_window_hours)
    page = await feed_page(ctx, PageArgs(settings.feed_ranked_candidates))
    posts = [post for _, post in page.items if post.created_at > now - window]
    authors = unique(post.author_id for post in posts if post.author_id != viewer)
    postgres = not services.db.is_sqlite
    done, contents = await asyncio.gather(
        ranking.interactions(ctx.read, viewer, authors, postgres=postgres),
        ranking.contents(ctx.read, [post.id for post in posts], postgres=postgres),
    )
    return ranking.rank(posts, ranking.Weights.of(settings), now, window, done, contents)


class FirstRanking:
    """Key of the request's first ranking in `ctx.loaders`: a request that asks for the first
    page twice (a batch, the compiled executor's differential check) ranks and reserves once."""


async def _first_ranking(ctx: RequestContext, viewer: int) -> tuple[str, int, list[int]]:
    known: tuple[str, int, list[int]] | None = ctx.loaders.get(FirstRanking)
    if known is not None:
        return known
    services = ctx.services
    await reserve(
        services.limiter,
        f"ranked:user:{viewer}",
        services.settings.feed_ranked_first_pages_per_minute,
        60,
        "Too many new rankings of the feed: page through this one, or wait.",
    )
    ranked = await ranked_candidates(ctx)
    if not ranked:
        known = ("", 0, [])
    else:
        ids = [post.id for post in ranked]
        snapshot_id = services.ids.next_id()
        known = (await feed_snapshots.save(services, viewer, snapshot_id, ids), snapshot_id, ids)
    ctx.loaders[FirstRanking] = known
    return known


async def ranked_page(ctx: RequestContext, args: PageArgs, after: str | None) -> Page[Post]:
    viewer = ctx.require_viewer()
    services = ctx.services
    if not after:
        store, snapshot_id, ids = await _first_ranking(ctx, viewer)
        if not ids:
            return Page([], False)
        offset = 0
    else:
        store, snapshot_id, offset = _position(after)
        found = await feed_snapshots.load(services, store, viewer, snapshot_id)
        if found is None:
            raise SnapshotExpired()
        ids = found
    # Posts that left the feed since the snapshot are passed over; read on until the page is full.
    taken: list[tuple[int, Post]] = []
    position = offset
    while len(taken) <= args.first and position < len(ids):
        window = ids[position : position + args.first + 1 - len(taken)]
        shown = await still_in_feed(ctx, window)
        for index, post_id in enumerate(window, start=position + 1):
            if post_id in shown:
                taken.append((index, shown[post_id]))
        position += len(window)
    items = [(_cursor(store, snapshot_id, end), post) for end, post in taken[: args.first]]
    return Page(items, has_next=len(taken) > args.first, has_previous=offset > 0)


async def still_in_feed(ctx: RequestContext, post_ids: list[int]) -> dict[int, Post]:
    """The posts that still exist and are still the viewer's own or a followed account's."""
    rows = [post for post in await PostById(ctx).load_many(post_ids) if post is not None]
    authors = unique(post.author_id for post in rows)
    users, rels = await asyncio.gather(UserById(ctx).load_many(authors), relationships(ctx, authors))
    in_feed = {
        author
        for author, user, rel in zip(authors, users, rels, strict=True)
        if user is not None
        and (rel.is_self or rel.follows)
        and can_see_content(rel, author_is_private=user.is_private)
    }
    return {post.id: post for post in rows if post.author_id in in_feed}
