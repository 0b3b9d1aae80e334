"""Batches as Apollo's BatchHttpLink sends them: each operation is limited, costed and
rate-limited on its own, and runs in order."""

from __future__ import annotations

from typing import Any

from tests.harness import ServerFactory

FEED = """
query Feed($n: Int) {
  feed(first: $n) { edges { node { id author { followers(first: 50) { edges { cursor } } } } } }
}
"""
SET_BIO = "mutation Bio($bio: String) { updateProfile(input: {bio: $bio}) { bio } }"


def codes(result: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in result.get("errors") or []]


async def test_each_operation_is_costed_on_its_own(asgi: ServerFactory) -> None:
    async with asgi(max_query_cost=500) as api:
        alice = await api.sign_up()
        cheap, costly = {"query": FEED, "variables": {"n": 1}}, {"query": FEED, "variables": {"n": 100}}
        response = await api.http.post(
            "/graphql", json=[cheap, costly, cheap], headers={"Authorization": f"Bearer {alice.token}"}
        )
    first, second, third = response.json()
    assert codes(first) == [] and codes(third) == []
    assert second["errors"][0]["extensions"]["reason"] == "QUERY_TOO_COSTLY"
    assert [first["extensions"]["cost"]["requested"], second["extensions"]["cost"]["requested"]] == [
        106,
        10501,
    ]


async def test_each_operation_is_depth_limited_on_its_own(asgi: ServerFactory) -> None:
    deep = "{ viewer { followers { edges { node { followers { edges { node { id } } } } } } } }"
    async with asgi(max_query_depth=6) as api:
        response = await api.http.post("/graphql", json=[{"query": "{ viewer { id } }"}, {"query": deep}])
    shallow, refused = response.json()
    assert shallow["data"] == {"viewer": None}
    assert codes(refused) == ["BAD_USER_INPUT"]


async def test_each_mutation_is_rate_limited_on_its_own_in_order(asgi: ServerFactory) -> None:
    async with asgi(mutations_per_minute_per_user=2) as api:
        alice = await api.sign_up()
        batch = [{"query": SET_BIO, "variables": {"bio": f"take {n}"}} for n in range(1, 5)]
        response = await api.http.post(
            "/graphql", json=batch, headers={"Authorization": f"Bearer {alice.token}"}
        )
        profile = await api.gql("{ viewer { bio } }", token=alice.token)
    results = response.json()
    assert [codes(result) for result in results] == [[], [], ["RATE_LIMITED"], ["RATE_LIMITED"]]
    assert [result["data"] and result["data"]["updateProfile"]["bio"] for result in results[:2]] == [
        "take 1",
        "take 2",
    ]
    assert profile == {"viewer": {"bio": "take 2"}}  # in order: the last that ran was the second
