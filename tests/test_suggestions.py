"""suggestedUsers: counted and ranked in SQL, never a followed, requested or blocked account, cached."""

from __future__ import annotations

from core.ids import to_global_id
from tests.discovery_world import add_edges, add_users
from tests.harness import Api, TestUser
from tests.posting import user_id

SUGGESTED = (
    "query($first: Int) { suggestedUsers(first: $first) { username viewerFollowStatus followerCount } }"
)
FOLLOW = "mutation($id: ID!) { follow(userId: $id) { viewerFollowStatus } }"
BLOCK = "mutation($id: ID!) { block(userId: $id) { id } }"


async def suggested(api: Api, viewer: TestUser, first: int = 20) -> list[str]:
    data = await api.gql(SUGGESTED, {"first": first}, token=viewer.token)
    return [user["username"] for user in data["suggestedUsers"]]


async def world(api: Api) -> tuple[TestUser, dict[str, int]]:
    viewer = await api.sign_up("viewer")
    ids = await add_users(
        api,
        [(name, name.title()) for name in
         ["a", "b", "c", "d", "x", "y", "z", "w", "blocked", "blocker", "stranger", "late"]],
    )  # fmt: skip
    me = user_id(viewer)
    a, b, c = ids["a"], ids["b"], ids["c"]
    await add_edges(
        api,
        follows=[
            (me, a), (me, b), (me, c),
            (a, ids["x"]), (a, ids["y"]), (a, ids["z"]), (a, ids["d"]), (a, me), (a, b),
            (b, ids["x"]), (b, ids["y"]), (b, ids["blocked"]), (b, ids["blocker"]),
            (c, ids["x"]), (c, ids["w"]),
            (ids["stranger"], ids["late"]),  # not followed by a followee: no suggestion
        ],
        pending=[(me, ids["d"])],  # requested: never suggested
        blocks=[(me, ids["blocked"]), (ids["blocker"], me)],
    )  # fmt: skip
    return viewer, ids


async def test_followees_follows_are_counted_and_ranked(api: Api) -> None:
    viewer, _ = await world(api)
    # x: followed by a, b and c; y: by a and b; z and w: by one each (the older account first).
    # Not the viewer, not b (followed), not d (requested), not the blocked pair either way.
    assert await suggested(api, viewer) == ["x", "y", "z", "w"]
    assert await suggested(api, viewer, 2) == ["x", "y"]


async def test_a_follow_or_block_takes_effect_at_once_and_new_edges_after_the_cache(api: Api) -> None:
    viewer, ids = await world(api)
    assert await suggested(api, viewer) == ["x", "y", "z", "w"]
    await api.gql(FOLLOW, {"id": _gid(ids["x"])}, token=viewer.token)
    await api.gql(BLOCK, {"id": _gid(ids["z"])}, token=viewer.token)
    assert await suggested(api, viewer) == ["y", "w"]

    await add_edges(api, follows=[(ids["a"], ids["late"]), (ids["b"], ids["late"])])
    assert await suggested(api, viewer) == ["y", "w"]  # cached for a short time
    redis = api.services.redis
    if redis is None:
        api.clock.advance(61)
    else:
        assert 0 < await redis.ttl(f"suggested:{user_id(viewer)}") <= 60
        await redis.delete(f"suggested:{user_id(viewer)}")  # as its expiry would
    assert await suggested(api, viewer) == ["y", "late", "w"]


async def test_a_list_costs_the_same_statements_at_any_size(api: Api) -> None:
    viewer, _ = await world(api)
    counts = []
    for first in (1, 4):
        if api.services.redis is not None:
            await api.services.redis.delete(f"suggested:{user_id(viewer)}")
        api.clock.advance(61)
        with api.count_statements() as statements:
            assert len(await suggested(api, viewer, first)) == first
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 4, counts


async def test_no_followees_no_suggestions_and_bad_sizes_are_coded(api: Api) -> None:
    loner = await api.sign_up()
    assert await suggested(api, loner) == []
    errors = await api.gql_error(SUGGESTED, {"first": 0}, token=loner.token)
    assert errors.codes == ["BAD_USER_INPUT"]
    assert (await api.gql_error(SUGGESTED, {})).codes == ["UNAUTHENTICATED"]


def _gid(user: int) -> str:
    return to_global_id("User", user)
