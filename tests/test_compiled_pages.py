"""A profile and a post's comments run compiled near their floors' statements on PostgreSQL
(execution/profile_pages.py): a profile's user with its rules, avatar and posts page in one
statement; a post with its rule, counts and comments (with their authors) in one.
SQLite keeps the batched loads. The documents are bench/scenarios.py's; the differential mode
(tests/harness.py) compares every answer here with strawberry's.
"""

from __future__ import annotations

from typing import Any

from bench.scenarios import COMMENTS, PROFILE
from tests.engagement import comment
from tests.harness import Api, TestUser
from tests.posting import create_post, settle

COMPILED = 'ephemera_graphql_operations_total{executor="compiled"}'
BLOCK = "mutation($id: ID!) { block(userId: $id) { id } }"


async def _statements(
    api: Api, query: str, variables: dict[str, object], user: TestUser
) -> tuple[int, dict[str, Any]]:
    await api.post(query, variables, user.token)  # the token is read once, then cached
    before = await api.metric(COMPILED)
    with api.count_statements() as statements:
        body = await api.post(query, variables, user.token)
    assert await api.metric(COMPILED) - before == 1, body
    assert "errors" not in body, body
    return len(statements), body["data"]


async def test_a_profile_costs_one_statement_on_postgresql(api: Api) -> None:
    me, author, rude = await api.sign_up(), await api.sign_up(), await api.sign_up()
    posts = [await create_post(api, author, f"post {n}") for n in range(5)]
    await comment(api, me, posts[-1], "first!")
    await comment(api, rude, posts[-1], "boo")
    await api.gql(BLOCK, {"id": rude.id}, me.token)
    await settle(api)
    costs = []
    for first in (2, 4):
        cost, data = await _statements(api, PROFILE, {"username": author.username, "first": first}, me)
        costs.append(cost)
        edges = data["user"]["posts"]["edges"]
        assert [edge["node"]["caption"] for edge in edges] == [f"post {n}" for n in range(4, 4 - first, -1)]
        assert edges[0]["node"]["commentCount"] == 1  # the blocked user's comment is not counted
        assert all(edge["node"]["media"][0]["url"] for edge in edges)
    assert costs[0] == costs[1], costs
    if not api.services.db.is_sqlite:
        # The user with its rules and avatar, its posts page (LATERAL) with media and hidden counts.
        assert costs[0] == 1, costs


async def test_a_posts_comments_cost_one_statement_on_postgresql(api: Api) -> None:
    me, author, rude = await api.sign_up(), await api.sign_up(), await api.sign_up()
    post = await create_post(api, author, "hello")
    for n in range(6):
        await comment(api, rude if n == 2 else author, post, f"c{n}")
    await api.gql(BLOCK, {"id": rude.id}, me.token)
    costs = []
    for first in (2, 5):
        cost, data = await _statements(api, COMMENTS, {"id": post, "first": first}, me)
        costs.append(cost)
        node = data["node"]
        assert node["commentCount"] == 5
        assert [edge["node"]["body"] for edge in node["comments"]["edges"]] == ["c0", "c1", "c3", "c4", "c5"][
            :first
        ]
    assert costs[0] == costs[1], costs
    if not api.services.db.is_sqlite:
        # The post with its rule and hidden count, its comments (LATERAL) with their authors.
        assert costs[0] == 1, costs


async def test_a_private_profile_shows_no_posts_to_a_stranger(api: Api) -> None:
    me, author = await api.sign_up(), await api.sign_up()
    await create_post(api, author, "secret")
    await api.gql("mutation { updateProfile(input: {isPrivate: true}) { isPrivate } }", {}, author.token)
    _, data = await _statements(api, PROFILE, {"username": author.username, "first": 5}, me)
    assert data["user"]["isPrivate"] is True
    assert data["user"]["posts"]["edges"] == []


PAGED_PROFILE = """query($username: String!, $first: Int, $after: String) {
  user(username: $username) { username postCount posts(first: $first, after: $after) {
    edges { cursor node { caption commentCount author { username } } } pageInfo { hasNextPage endCursor } } }
}"""
PAGED_COMMENTS = """query($id: ID!, $first: Int, $after: String) {
  node(id: $id) { ... on Post { commentCount comments(first: $first, after: $after) {
    edges { cursor node { body author { username } } } pageInfo { hasNextPage endCursor } } } }
}"""


async def test_later_pages_of_a_profile_and_of_comments(api: Api) -> None:
    me, author = await api.sign_up(), await api.sign_up()
    posts = [await create_post(api, author, f"post {n}") for n in range(5)]
    for n in range(5):
        await comment(api, me, posts[0], f"c{n}")
    await settle(api)
    cost, data = await _statements(api, PAGED_PROFILE, {"username": author.username, "first": 2}, me)
    after = data["user"]["posts"]["pageInfo"]["endCursor"]
    cost, data = await _statements(
        api, PAGED_PROFILE, {"username": author.username, "first": 2, "after": after}, me
    )
    assert [edge["node"]["caption"] for edge in data["user"]["posts"]["edges"]] == ["post 2", "post 1"]
    assert data["user"]["postCount"] == 5 and data["user"]["posts"]["pageInfo"]["hasNextPage"]
    _, data = await _statements(api, PAGED_COMMENTS, {"id": posts[0], "first": 3}, me)
    after = data["node"]["comments"]["pageInfo"]["endCursor"]
    cost, data = await _statements(api, PAGED_COMMENTS, {"id": posts[0], "first": 3, "after": after}, me)
    assert [edge["node"]["body"] for edge in data["node"]["comments"]["edges"]] == ["c3", "c4"]
    assert data["node"]["comments"]["pageInfo"]["hasNextPage"] is False
    if not api.services.db.is_sqlite:
        assert cost == 1, cost
