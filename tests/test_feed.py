"""The home feed over GraphQL, on both stores: pull (SQLite) and hybrid (PostgreSQL + Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import pytest
from redis.asyncio.connection import AbstractConnection

from core.observability import comparing
from tests.harness import Api, TestUser
from tests.posting import create_post, settle

FEED = """
query($first: Int, $after: String) {
  feed(first: $first, after: $after) {
    edges { cursor node { id caption likeCount viewerHasLiked createdAt
      author { username avatar { id } } media { id url } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
FOLLOW = "mutation($id: ID!) { follow(userId: $id) { viewerFollowStatus } }"
UNFOLLOW = "mutation($id: ID!) { unfollow(userId: $id) { id } }"
APPROVE = "mutation($id: ID!) { approveFollowRequest(userId: $id) { id } }"
BLOCK = "mutation($id: ID!) { block(userId: $id) { id } }"
DELETE = "mutation($id: ID!) { deletePost(id: $id) }"
LIKE = "mutation($id: ID!) { likePost(id: $id) { id } }"
GO_PRIVATE = "mutation { updateProfile(input: {isPrivate: true}) { isPrivate } }"
GO_PUBLIC = "mutation { updateProfile(input: {isPrivate: false}) { isPrivate } }"


async def feed_ids(api: Api, user: TestUser, first: int = 100, after: str | None = None) -> list[str]:
    data = await api.gql(FEED, {"first": first, "after": after}, token=user.token)
    return [edge["node"]["id"] for edge in data["feed"]["edges"]]


async def whole_feed(api: Api, user: TestUser, first: int) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        page = (await api.gql(FEED, {"first": first, "after": after}, token=user.token))["feed"]
        ids += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


async def test_feed_holds_own_and_accepted_followees_posts_newest_first(api: Api) -> None:
    me, friend, private, stranger = [await api.sign_up() for _ in range(4)]
    await api.gql(GO_PRIVATE, token=private.token)
    await api.gql(FOLLOW, {"id": friend.id}, token=me.token)
    await api.gql(FOLLOW, {"id": private.id}, token=me.token)  # requested only
    older = await create_post(api, friend, "older")
    mine = await create_post(api, me, "mine")
    await create_post(api, private, "private")
    await create_post(api, stranger, "stranger")
    newer = await create_post(api, friend, "newer")
    await settle(api)

    assert await feed_ids(api, me) == [newer, mine, older]
    page = (await api.gql(FEED, {}, token=me.token))["feed"]
    assert page["edges"][0]["node"]["author"]["username"] == friend.username
    assert page["edges"][0]["node"]["media"][0]["url"]
    assert page["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "endCursor": page["edges"][-1]["cursor"],
    }

    await api.gql(APPROVE, {"id": me.id}, token=private.token)
    assert len(await feed_ids(api, me)) == 4


async def test_pages_stay_stable_while_posts_arrive(api: Api) -> None:
    me, friend = await api.sign_up(), await api.sign_up()
    await api.gql(FOLLOW, {"id": friend.id}, token=me.token)
    posts = [await create_post(api, friend, f"#{n}") for n in range(7)]
    await settle(api)

    first = (await api.gql(FEED, {"first": 3}, token=me.token))["feed"]
    assert [e["node"]["id"] for e in first["edges"]] == posts[:3:-1]
    newer = [await create_post(api, friend, "late"), await create_post(api, me, "mine")]
    await settle(api)
    second = await api.gql(FEED, {"first": 3, "after": first["pageInfo"]["endCursor"]}, token=me.token)
    assert [e["node"]["id"] for e in second["feed"]["edges"]] == posts[3:0:-1]
    assert second["feed"]["pageInfo"]["hasPreviousPage"] is True
    last = await feed_ids(api, me, 3, second["feed"]["pageInfo"]["endCursor"])
    assert last == posts[:1]
    assert await feed_ids(api, me, 2) == newer[::-1]
    assert await whole_feed(api, me, 4) == [*newer[::-1], *posts[::-1]]


async def test_feed_arguments_are_checked(api: Api) -> None:
    me = await api.sign_up()
    for variables in ({"first": 0}, {"first": 101}, {"after": "not-a-cursor"}):
        assert (await api.gql_error(FEED, variables, token=me.token)).codes == ["BAD_USER_INPUT"]
    assert (await api.gql_error(FEED, {})).codes == ["UNAUTHENTICATED"]


async def test_graph_changes_reach_the_feed_at_once(api: Api) -> None:
    me, alice, bob = await api.sign_up(), await api.sign_up(), await api.sign_up()
    alices = [await create_post(api, alice, f"a{n}") for n in range(3)]
    bobs = await create_post(api, bob, "b")
    await settle(api)

    await api.gql(FOLLOW, {"id": alice.id}, token=me.token)
    await api.gql(FOLLOW, {"id": bob.id}, token=me.token)
    assert await feed_ids(api, me) == [bobs, *alices[::-1]]  # backfilled on follow

    await api.gql(UNFOLLOW, {"id": alice.id}, token=me.token)
    assert await feed_ids(api, me) == [bobs]
    await api.gql(BLOCK, {"id": me.id}, token=bob.token)
    assert await feed_ids(api, me) == []

    await api.gql(GO_PRIVATE, token=alice.token)
    await api.gql(FOLLOW, {"id": alice.id}, token=me.token)
    assert await feed_ids(api, me) == []
    await api.gql(GO_PUBLIC, token=alice.token)  # pending requests become follows
    assert await feed_ids(api, me) == alices[::-1]


async def test_a_deleted_post_leaves_every_feed_at_once(api: Api) -> None:
    alice = await api.sign_up()
    followers = [await api.sign_up() for _ in range(3)]
    for follower in followers:
        await api.gql(FOLLOW, {"id": alice.id}, token=follower.token)
    kept = await create_post(api, alice, "kept")
    gone = await create_post(api, alice, "gone")
    await settle(api)
    await api.gql(DELETE, {"id": gone}, token=alice.token)
    for user in [alice, *followers]:
        assert await feed_ids(api, user) == [kept]


# Set while the measured request runs: commands sent by tasks that started before it (the id
# lease's renewal, an outbox drain of an earlier mutation) are not the page's cost.
_measuring: ContextVar[bool] = ContextVar("measuring", default=False)


@contextmanager
def count_redis_round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every command or pipeline the request's Redis clients send over the wire (the app runs in
    the test's task through the in-process transport, so the request inherits `_measuring`)."""
    sent = [0]
    original = AbstractConnection.send_packed_command

    async def counting(self: AbstractConnection, *args: Any, **kwargs: Any) -> None:
        # the differential comparison's second run is not counted
        sent[0] += _measuring.get() and not comparing.get()
        await original(self, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    token = _measuring.set(True)
    try:
        yield sent
    finally:
        _measuring.reset(token)
        monkeypatch.setattr(AbstractConnection, "send_packed_command", original)


async def test_a_page_costs_the_same_whatever_its_size(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    me = await api.sign_up()
    authors = [await api.sign_up() for _ in range(4)]
    for author in authors:
        await api.gql(FOLLOW, {"id": author.id}, token=me.token)
    for n in range(104):
        post = await create_post(api, authors[n % 4], f"#{n}")
        if n % 3 == 0:
            await api.gql(LIKE, {"id": post}, token=me.token)
    await settle(api)
    await feed_ids(api, me, 1)  # a cold cache is rebuilt once; measure warm pages

    costs = []
    for size in (20, 100):
        with api.count_statements() as statements, count_redis_round_trips(monkeypatch) as trips:
            page = (await api.gql(FEED, {"first": size}, token=me.token))["feed"]
        assert len(page["edges"]) == size
        assert sum(e["node"]["viewerHasLiked"] for e in page["edges"]) == len(
            [e for e in page["edges"] if int(e["node"]["caption"][1:]) % 3 == 0]
        )
        costs.append((len(statements), trips[0]))
    assert costs[0] == costs[1]
    statements_per_page, redis_trips = costs[0]
    if api.services.db.is_sqlite:
        # token, feed page, authors, media, likes by the viewer (+ avatars are not set here).
        assert statements_per_page <= 5
    else:
        # The feed page with its authors, avatars and media in one statement
        # (execution/joined.py), likes by the viewer (the token is cached by then).
        assert statements_per_page <= 2
    assert redis_trips == (1 if api.services.redis is not None else 0)
