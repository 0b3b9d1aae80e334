"""The hybrid feed store (PostgreSQL + Redis) against the pull store, with tiny limits so that
every path runs: a fan-out threshold of 2 followers, sets capped at 4 posts, 7 days of activity.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.context import RequestContext, Viewer
from core.errors import AppError
from core.ids import from_global_id
from models import Outbox, Post, User
from resolvers.feed import fanout
from resolvers.feed.active import last_active
from resolvers.feed.cache import FeedCache
from resolvers.feed.pages import hybrid_page, pull_page
from resolvers.graph import actions as graph
from resolvers.paging import PageArgs
from resolvers.posts import posts
from tests.conftest import _empty_postgres, _flush_redis
from tests.harness import Api, running_server, test_settings
from tests.posting import create_post, ready_media_rows, settle, user_id

FEED = "query($first: Int, $after: String) { feed(first: $first, after: $after) { edges { node { id } } } }"
FOLLOW = "mutation($id: ID!) { follow(userId: $id) { id } }"


@pytest.fixture
def feed_redis(redis_required: str) -> str:
    """A Redis database of its own: other suites flush theirs between tests, and the sets under
    test here must only change when these tests change them."""
    return urlunsplit(urlsplit(redis_required)._replace(path="/9"))


@pytest.fixture
def hybrid_settings(postgres_database: str, feed_redis: str, tmp_path: Path) -> Any:
    return test_settings(
        postgres_database,
        feed_redis,
        tmp_path / "data",
        fanout_threshold=2,
        feed_cache_size=4,
        feed_inactive_days=7,
        fanout_interval_seconds=3600,  # the tests drain the outbox themselves
    )


@pytest.fixture
async def hybrid(hybrid_settings: Any, postgres_database: str, feed_redis: str) -> AsyncIterator[Api]:
    await _empty_postgres(postgres_database)
    await _flush_redis(feed_redis)
    async with running_server(hybrid_settings) as api:
        yield api


def feed_cache(api: Api) -> FeedCache:
    found = fanout.cache(api.services)
    assert found is not None
    return found


async def cached_post_ids(api: Api, user: int) -> list[int]:
    members = [bytes(m) for m in await feed_cache(api).redis.zrange(FeedCache.key(user), 0, -1)]  # type: ignore[arg-type]
    return sorted(int(m[:20]) for m in members if not m.startswith(b"!"))


def post_id(global_id: str) -> int:
    parsed = from_global_id(global_id)
    assert parsed is not None
    return parsed[1]


async def test_large_authors_are_pulled_and_small_ones_pushed(hybrid: Api) -> None:
    star, small, fan, other = [await hybrid.sign_up() for _ in range(4)]
    for follower in (fan, other):
        await hybrid.gql(FOLLOW, {"id": star.id}, token=follower.token)
    await hybrid.gql(FOLLOW, {"id": small.id}, token=fan.token)
    await hybrid.gql(FEED, {}, token=fan.token)  # builds fan's set
    star_post = await create_post(hybrid, star)
    small_post = await create_post(hybrid, small)
    await settle(hybrid)

    assert await cached_post_ids(hybrid, user_id(fan)) == [post_id(small_post)]
    feed = await hybrid.gql(FEED, {}, token=fan.token)
    assert [e["node"]["id"] for e in feed["feed"]["edges"]] == [small_post, star_post]


async def test_fan_out_is_not_lost_when_the_process_stops_after_commit(
    hybrid: Api, hybrid_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    author, fan = await hybrid.sign_up(), await hybrid.sign_up()
    await hybrid.gql(FOLLOW, {"id": author.id}, token=fan.token)
    await hybrid.gql(FEED, {}, token=fan.token)
    monkeypatch.setattr(hybrid.services.outbox, "kick", lambda services: None)  # "dies" after commit
    post = await create_post(hybrid, author)

    async with hybrid.services.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Outbox)) == 1
    async with running_server(hybrid_settings) as survivor:
        assert await survivor.services.outbox.drain(survivor.services) == 1
    assert await cached_post_ids(hybrid, user_id(fan)) == [post_id(post)]


async def test_sets_are_capped_and_deeper_pages_come_from_sql(hybrid: Api) -> None:
    author, fan = await hybrid.sign_up(), await hybrid.sign_up()
    await hybrid.gql(FOLLOW, {"id": author.id}, token=fan.token)
    await hybrid.gql(FEED, {}, token=fan.token)
    created = [await create_post(hybrid, author, f"#{n}") for n in range(9)]
    await settle(hybrid)

    assert await cached_post_ids(hybrid, user_id(fan)) == [post_id(p) for p in created[-4:]]
    seen: list[str] = []
    after = None
    while True:
        page = (await hybrid.gql(PAGE, {"first": 2, "after": after}, token=fan.token))["feed"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == created[::-1]


PAGE = """
query($first: Int, $after: String) {
  feed(first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } }
}
"""


async def test_an_evicted_set_is_rebuilt_on_the_next_read(hybrid: Api) -> None:
    author, fan = await hybrid.sign_up(), await hybrid.sign_up()
    await hybrid.gql(FOLLOW, {"id": author.id}, token=fan.token)
    created = [await create_post(hybrid, author) for _ in range(3)]
    await settle(hybrid)
    await feed_cache(hybrid).redis.delete(FeedCache.key(user_id(fan)))

    feed = await hybrid.gql(FEED, {}, token=fan.token)
    assert [e["node"]["id"] for e in feed["feed"]["edges"]] == created[::-1]
    assert await cached_post_ids(hybrid, user_id(fan)) == sorted(post_id(p) for p in created)


async def test_inactive_followers_are_skipped_and_rebuilt_when_they_return(hybrid: Api) -> None:
    author, fan = await hybrid.sign_up(), await hybrid.sign_up()
    await hybrid.gql(FOLLOW, {"id": author.id}, token=fan.token)
    await hybrid.gql(FEED, {}, token=fan.token)
    hybrid.clock.advance(8 * 86_400)
    post = await create_post(hybrid, author)
    await settle(hybrid)
    assert not await feed_cache(hybrid).redis.exists(FeedCache.key(user_id(fan)))

    feed = await hybrid.gql(FEED, {}, token=fan.token)
    assert [e["node"]["id"] for e in feed["feed"]["edges"]] == [post]
    async with hybrid.services.db.read() as session:
        stored = await session.scalar(select(User.last_active_at).where(User.id == user_id(fan)))
    assert stored is not None and stored < hybrid.clock.now()  # the read wrote nothing in the database
    assert await last_active(hybrid.services, user_id(fan), stored) == hybrid.clock.now()


# The property: whatever happens to the graph and the posts, both stores give the same pages.
USERS = 4
Op = tuple[str, int, int]
ops = st.lists(
    st.tuples(
        st.sampled_from(
            ["follow"] * 4
            + ["post"] * 6
            + ["read"] * 3
            + ["unfollow", "approve", "block", "delete", "evict", "idle"]
        ),
        st.integers(0, USERS - 1),
        st.integers(0, USERS - 1),
    ),
    min_size=30,
    max_size=60,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(program=ops, private=st.lists(st.booleans(), min_size=USERS, max_size=USERS), size=st.integers(1, 3))
async def test_hybrid_and_pull_stores_give_identical_pages(
    hybrid: Api, program: list[Op], private: list[bool], size: int
) -> None:
    services = hybrid.services
    users = await make_users(hybrid, private)
    authored: dict[int, list[int]] = {user: [] for user in users}
    for action, a, b in program:
        actor, other = users[a], users[b]
        ctx = RequestContext(services, Viewer(actor, 0))
        try:
            if action == "follow":
                await graph.follow(ctx, other)
            elif action == "unfollow":
                await graph.unfollow(ctx, other)
            elif action == "approve":
                await graph.approve_follow_request(ctx, other)
            elif action == "block":
                await graph.block(ctx, other)
            elif action == "post":
                (media,) = await ready_media_rows(services, actor, 1)
                authored[actor].append((await posts.create_post(ctx, "", [media])).id)
            elif action == "delete" and authored[actor]:
                await posts.delete_post(ctx, authored[actor].pop(b % len(authored[actor])))
            elif action == "evict":
                await feed_cache(hybrid).redis.delete(FeedCache.key(other))
            elif action == "idle":
                hybrid.clock.advance(8 * 86_400)
            elif action == "read":  # also builds the reader's set, so later changes go through it
                await settle(hybrid)
                assert await walk(hybrid_page, services, actor, size) == await walk(
                    pull_page, services, actor, size
                )
        except AppError:
            pass  # refused moves (following oneself, a blocked user...) are part of the game
    await settle(hybrid)
    for user in users:
        assert await walk(hybrid_page, services, user, size) == await walk(pull_page, services, user, size)


async def walk(store: Any, services: Any, user: int, size: int) -> list[list[int]]:
    pages: list[list[int]] = []
    after = None
    while True:
        rows: list[Post] = await store(services, user, PageArgs(size, after))
        pages.append([row.id for row in rows])
        if len(rows) <= size:
            return pages
        after = rows[size - 1].id


async def make_users(api: Api, private: list[bool]) -> list[int]:
    services = api.services
    now = services.clock.now()
    rows = [
        User(
            id=services.ids.next_id(),
            username=f"p{services.ids.next_id() % 10**12}",
            display_name="",
            bio="",
            is_private=is_private,
            password_hash="-",
            created_at=now,
            last_active_at=now,
        )
        for is_private in private
    ]
    async with services.db.write() as session:
        session.add_all(rows)
    return [row.id for row in rows]
