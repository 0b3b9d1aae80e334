"""N+1 guards: ranked feed pages, activity pages and comment pages cost the same statements at any size."""

from __future__ import annotations

from typing import Any

from tests.engagement import ACTIVITY, FOLLOW, LIKE, comment, react, reply
from tests.harness import Api, TestUser
from tests.posting import create_post, settle
from tests.story_helpers import create_story

FEED = """
query($first: Int, $after: String, $order: FeedOrder) {
  feed(first: $first, after: $after, order: $order) {
    edges { node {
      id caption likeCount viewerHasLiked commentCount commentsDisabled
      author { username } media { id url }
      comments(first: 2) { edges { node { body author { username } } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
COMMENTS = """
query($id: ID!, $first: Int) {
  node(id: $id) {
    ... on Post {
      commentCount comments(first: $first) { edges { node { id body author { username } post { id } } } }
    }
  }
}
"""
MAX_STATEMENTS = 16


async def counted(api: Api, token: str, query: str, variables: dict[str, Any]) -> tuple[int, Any]:
    with api.count_statements() as statements:
        data = await api.gql(query, variables, token)
    return len(statements), data


async def _feed_world(api: Api) -> tuple[TestUser, list[str]]:
    viewer = await api.sign_up()
    authors = [await api.sign_up() for _ in range(4)]
    ids = []
    for author in authors:
        await api.gql(FOLLOW, {"id": author.id}, viewer.token)
    for n in range(24):
        post_id = await create_post(api, authors[n % 4], f"p{n}")
        ids.append(post_id)
        await api.gql(LIKE, {"id": post_id}, authors[(n + 1) % 4].token)
        await comment(api, authors[(n + 2) % 4], post_id, f"c{n}")
        await comment(api, viewer, post_id, f"mine {n}")  # every post alike: pages differ in size only
        await api.gql(LIKE, {"id": post_id}, viewer.token)
        api.clock.advance(600)
    await settle(api)
    return viewer, ids


async def test_ranked_pages_cost_the_same_at_any_size(api: Api) -> None:
    viewer, _ = await _feed_world(api)
    ranked = {"order": "RANKED"}
    await api.gql(FEED, {"first": 1, **ranked}, viewer.token)  # a cold hybrid set is built once
    costs = {}
    for first in (3, 12):
        costs[first], data = await counted(api, viewer.token, FEED, {"first": first, **ranked})
        page = data["feed"]
        assert len(page["edges"]) == first and page["pageInfo"]["hasNextPage"]
        after = page["pageInfo"]["endCursor"]
        costs[-first], data = await counted(
            api, viewer.token, FEED, {"first": first, "after": after, **ranked}
        )
        assert len(data["feed"]["edges"]) == first
        assert all(edge["node"]["comments"]["edges"] for edge in data["feed"]["edges"])
    assert costs[3] == costs[12] and costs[-3] == costs[-12], costs
    assert max(costs.values()) <= MAX_STATEMENTS, costs


async def test_comment_pages_cost_the_same_at_any_size(api: Api) -> None:
    viewer, ids = await _feed_world(api)
    many = ids[0]
    for n in range(12):
        await comment(api, viewer, many, f"more {n}")
    small, data = await counted(api, viewer.token, COMMENTS, {"id": many, "first": 2})
    big, data = await counted(api, viewer.token, COMMENTS, {"id": many, "first": 12})
    assert len(data["node"]["comments"]["edges"]) == 12 and small == big, (small, big)
    await api.gql(FEED, {"first": 1}, viewer.token)  # a cold hybrid set is built once
    recent = [await counted(api, viewer.token, FEED, {"first": first}) for first in (3, 12)]
    assert recent[0][0] == recent[1][0] <= MAX_STATEMENTS, [cost for cost, _ in recent]


async def test_activity_pages_cost_the_same_at_any_size(api: Api) -> None:
    """Each round adds one item of every kind, so a page of 5 and a page of 20 hold the same kinds."""
    owner = await api.sign_up()
    for round_ in range(4):
        fan = await api.sign_up()
        post, story = await create_post(api, owner), await create_story(api, owner, "PUBLIC")
        await api.gql(FOLLOW, {"id": owner.id}, fan.token)
        await api.gql(LIKE, {"id": post}, fan.token)
        await comment(api, fan, post, f"round {round_}")
        await react(api, fan, story)
        await reply(api, fan, story, f"reply {round_}")
    small, data = await counted(api, owner.token, ACTIVITY, {"first": 5})
    assert len({edge["node"]["kind"] for edge in data["activity"]["edges"]}) == 5
    big, data = await counted(api, owner.token, ACTIVITY, {"first": 20})
    assert len(data["activity"]["edges"]) == 20
    assert small == big <= MAX_STATEMENTS, (small, big)
