"""The compiled executor (execution/): which requests it answers, and that they match strawberry.

The whole suite runs with EXECUTION_DIFFERENTIAL (tests/harness.py), so every request a test
sends that the compiled executor answers is also answered by strawberry and compared
(tests/conftest.py fails the test on any difference). These tests check the routing itself:
planned documents run compiled, everything else on strawberry, with the same answers.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

import execution.loaders
from execution.executor import differences
from models import User
from tests.engagement import comment
from tests.harness import Api, TestUser
from tests.posting import create_post, ready_media_rows, settle, user_id

COMPILED = 'ephemera_graphql_operations_total{executor="compiled"}'
STRAWBERRY = 'ephemera_graphql_operations_total{executor="strawberry"}'
FEED = """
query Feed($first: Int, $after: String, $order: FeedOrder) {
  feed(first: $first, after: $after, order: $order) {
    edges { cursor node { id caption likeCount createdAt editedAt commentsDisabled hashtags
      viewerHasLiked viewerHasSaved
      author { id username displayName bio isPrivate avatar { id url } }
      media { id url kind status contentType byteSize width height altText placeholder failureReason } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
FOLLOW = "mutation($id: ID!) { follow(userId: $id) { viewerFollowStatus } }"


async def executors(api: Api) -> tuple[float, float]:
    return await api.metric(COMPILED), await api.metric(STRAWBERRY)


async def counted(
    api: Api, query: str, variables: dict[str, object], user: TestUser | None
) -> tuple[Any, tuple[float, float]]:
    """The answer's data, and how many operations each executor answered for it."""
    before = await executors(api)
    body = await api.post(query, variables, token=user.token if user else None)
    after = await executors(api)
    return body, (after[0] - before[0], after[1] - before[1])


async def a_feed(api: Api) -> tuple[TestUser, TestUser]:
    me, author = await api.sign_up(), await api.sign_up()
    await api.gql(FOLLOW, {"id": author.id}, token=me.token)
    for n in range(3):
        await create_post(api, author, f"#tag{n} hello")
    await create_post(api, me, "mine")
    await settle(api)
    return me, author


async def test_the_feed_runs_compiled_and_pages_as_strawberry_does(api: Api) -> None:
    me, _ = await a_feed(api)
    body, (compiled, strawberry) = await counted(api, FEED, {"first": 2}, me)
    assert (compiled, strawberry) == (1, 0), body
    page = body["data"]["feed"]
    assert [edge["node"]["caption"] for edge in page["edges"]] == ["mine", "#tag2 hello"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["edges"][1]["node"]["hashtags"] == ["tag2"]
    assert page["edges"][0]["node"]["media"][0]["status"] == "READY"
    assert page["edges"][0]["node"]["media"][0]["url"]

    after = page["pageInfo"]["endCursor"]
    body, (compiled, strawberry) = await counted(api, FEED, {"first": 5, "after": after}, me)
    assert (compiled, strawberry) == (1, 0)
    assert [e["node"]["caption"] for e in body["data"]["feed"]["edges"]] == ["#tag1 hello", "#tag0 hello"]


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { queryType { name } } }",  # introspection
        "query { viewer { username } }",  # a field without a declaration
        "query F { feed(first: 2) { edges { node { mentions { username } } } } }",  # unplanned nested
    ],
)
async def test_what_the_plans_do_not_cover_runs_on_strawberry(api: Api, query: str) -> None:
    me, _ = await a_feed(api)
    body, (compiled, strawberry) = await counted(api, query, {}, me)
    assert "errors" not in body, body
    assert (compiled, strawberry) == (0, 1)


async def test_a_mutation_runs_on_strawberry(api: Api) -> None:
    me, author = await api.sign_up(), await api.sign_up()
    body, (compiled, strawberry) = await counted(api, FOLLOW, {"id": author.id}, me)
    assert body["data"]["follow"]["viewerFollowStatus"] == "FOLLOWING"
    assert (compiled, strawberry) == (0, 1)


async def test_an_error_is_strawberrys_with_its_code_and_path(api: Api) -> None:
    body, (compiled, strawberry) = await counted(api, FEED, {"first": 2}, None)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["path"] == ["feed"]
    assert (compiled, strawberry) == (0, 1)
    me, _ = await a_feed(api)
    body, _ = await counted(api, FEED, {"first": 500}, me)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


PROFILE = """
query Profile($name: String!, $first: Int) {
  user(username: $name) {
    username postCount avatar { url }
    posts(first: $first) {
      edges { node { caption commentCount author { username avatar { url } } media { url }
        comments(first: 2) { edges { node { body author { username } } } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def test_a_compiled_page_costs_the_same_statements_at_any_size(api: Api) -> None:
    me, author = await api.sign_up(), await api.sign_up()
    for n in range(24):
        post = await create_post(api, author, f"post {n}")
        if n % 2:
            await comment(api, me, post, "first!")
            await comment(api, author, post, "thanks")
    costs, seen = [], []
    for size in (4, 20):
        before = await api.metric(COMPILED)
        with api.count_statements() as statements:
            body = await api.post(PROFILE, {"name": author.username, "first": size}, me.token)
        assert await api.metric(COMPILED) - before == 1, body
        edges = body["data"]["user"]["posts"]["edges"]
        assert len(edges) == size
        assert sum(edge["node"]["commentCount"] for edge in edges) == size  # every other post, 2 each
        costs.append(len(statements))
        seen.append([s[:90] for s in statements])
    assert costs[0] == costs[1], seen
    if api.services.db.is_sqlite:
        # token, user, relationship, posts page, post count, comments page, hidden comment counts,
        # authors, media, avatars.
        assert costs[0] <= 11, costs
    else:
        # The user with its rules, post count, avatar and posts page with their media and hidden
        # comment counts (execution/profile_pages.py); the comments under them, their
        # relationships, their authors.
        assert costs[0] <= 4, seen


AUTHORS = "query A($first: Int) { feed(first: $first) { edges { node { author { username %s } } } } }"


async def test_a_feed_pages_avatars_come_with_their_authors(api: Api) -> None:
    """An avatar is read in the authors' statement: selecting it adds no statement."""
    me, author = await a_feed(api)
    [avatar] = await ready_media_rows(api.services, user_id(author), 1, "AVATAR")
    async with api.services.db.write() as session:
        await session.execute(update(User).where(User.id == user_id(author)).values(avatar_media_id=avatar))
    await api.post(AUTHORS % "", {"first": 4}, me.token)  # the token is read once, then cached
    costs = []
    for avatar_fields in ("", "avatar { id url kind }"):
        before = await api.metric(COMPILED)
        with api.count_statements() as statements:
            body = await api.post(AUTHORS % avatar_fields, {"first": 4}, me.token)
        assert await api.metric(COMPILED) - before == 1, body
        costs.append(len(statements))
    authors = [edge["node"]["author"] for edge in body["data"]["feed"]["edges"]]
    assert {a["username"] for a in authors} == {me.username, author.username}
    assert [a["avatar"]["url"] is not None for a in authors if a["username"] == author.username] == [True] * 3
    assert costs[0] == costs[1], costs


async def test_a_difference_between_the_executors_fails_loudly(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    me, _ = await a_feed(api)

    async def everything_liked(ctx: object, keys: list[int], args: object) -> dict[int, bool]:
        return dict.fromkeys(keys, True)  # a wrong value only the compiled path shows

    monkeypatch.setattr(execution.loaders.CHILDREN["viewer_liked"], "load", everything_liked)
    body = await api.post(FEED, {"first": 2}, me.token)
    found, differences[:] = list(differences), []
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert len(found) == 1 and '"viewerHasLiked":true' in found[0]
