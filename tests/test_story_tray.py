"""The stories tray: grouping and order, pages that hold still while the viewer watches, fixed SQL cost."""

from __future__ import annotations

from tests.harness import Api, ServerFactory
from tests.story_helpers import add_edges, bulk_stories, bulk_users, create_story, db_id, story_gid

TRAY = """
query($first: Int = 10, $after: String) {
  storiesTray(first: $first, after: $after) {
    edges { cursor node {
      owner { username } hasUnseen latestStoryAt stories { id createdAt viewerHasSeen }
    } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
SEEN = "mutation($ids: [ID!]!) { markStoriesSeen(ids: $ids) { id } }"


async def test_own_first_then_unseen_then_seen_each_newest_first(api: Api) -> None:
    viewer = await api.sign_up("viewer")
    a, b, c = [await api.sign_up(name) for name in ("anna", "ben", "cleo")]
    await add_edges(api, [("follow", db_id(viewer.id), db_id(u.id)) for u in (a, b, c)])
    a_old = await create_story(api, a)
    api.clock.advance(10)
    own = await create_story(api, viewer)
    api.clock.advance(10)
    b_story = await create_story(api, b)
    api.clock.advance(10)
    c_story = await create_story(api, c)
    api.clock.advance(10)
    a_new = await create_story(api, a)
    await api.gql(SEEN, {"ids": [c_story]}, viewer.token)

    edges = (await api.gql(TRAY, {}, viewer.token))["storiesTray"]["edges"]

    items = [
        (e["node"]["owner"]["username"], e["node"]["hasUnseen"], [s["id"] for s in e["node"]["stories"]])
        for e in edges
    ]
    assert items == [
        ("viewer", True, [own]),
        ("anna", True, [a_old, a_new]),
        ("ben", True, [b_story]),
        ("cleo", False, [c_story]),
    ]
    anna = edges[1]["node"]
    assert anna["latestStoryAt"] == anna["stories"][-1]["createdAt"]
    # Seeing part of an owner's stories leaves them unseen.
    await api.gql(SEEN, {"ids": [a_old]}, viewer.token)
    again = (await api.gql(TRAY, {}, viewer.token))["storiesTray"]["edges"]
    assert again[1]["node"]["owner"]["username"] == "anna" and again[1]["node"]["hasUnseen"] is True


async def test_pages_stay_consistent_while_the_viewer_watches(api: Api) -> None:
    viewer = await api.sign_up()
    owners = [await api.sign_up(f"owner{i}") for i in range(7)]
    await add_edges(api, [("follow", db_id(viewer.id), db_id(o.id)) for o in owners])
    story_of = {}
    for owner in owners:
        story_of[owner.username] = await create_story(api, owner)
        api.clock.advance(1)
    await api.gql(SEEN, {"ids": [story_of["owner6"]]}, viewer.token)  # newest owner already seen
    full = [
        e["node"]["owner"]["username"]
        for e in (await api.gql(TRAY, {}, viewer.token))["storiesTray"]["edges"]
    ]
    assert full == ["owner5", "owner4", "owner3", "owner2", "owner1", "owner0", "owner6"]

    collected: list[str] = []
    after = None
    while True:
        page = (await api.gql(TRAY, {"first": 2, "after": after}, viewer.token))["storiesTray"]
        names = [e["node"]["owner"]["username"] for e in page["edges"]]
        collected += names
        # Watch what was just shown, and one owner further down, and a new owner posts meanwhile.
        watched = [story_of[name] for name in names] + [story_of["owner0"]]
        await api.gql(SEEN, {"ids": watched}, viewer.token)
        if len(collected) == 2:
            latecomer = await api.sign_up("latecomer")
            await add_edges(api, [("follow", db_id(viewer.id), db_id(latecomer.id))])
            await create_story(api, latecomer)
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        after = page["pageInfo"]["endCursor"]

    assert collected == full
    # A fresh tray shows the latecomer first among the unseen, and everyone watched as seen.
    fresh = (await api.gql(TRAY, {}, viewer.token))["storiesTray"]["edges"]
    assert [(e["node"]["owner"]["username"], e["node"]["hasUnseen"]) for e in fresh][:2] == [
        ("latecomer", True),
        ("owner6", False),
    ]


async def test_malformed_cursors_and_sizes_are_bad_input(api: Api) -> None:
    viewer = await api.sign_up()
    for variables in ({"first": 0}, {"first": 101}, {"after": "bm9wZQ"}, {"after": "!!"}):
        assert (await api.gql_error(TRAY, variables, viewer.token)).codes == ["BAD_USER_INPUT"]
    assert (await api.gql_error(TRAY, {})).codes == ["UNAUTHENTICATED"]


async def tray_statements(api: Api, owners: int, prefix: str) -> tuple[int, int]:
    viewer = await api.sign_up(f"{prefix}viewer")
    viewer_id = db_id(viewer.id)
    authors = await bulk_users(api, owners, prefix=prefix)
    mixed = authors[: owners // 2]
    await add_edges(
        api,
        [("follow", viewer_id, a) for a in authors]
        + [("close_friend", a, viewer_id) for a in mixed]
        + [("contact", a, viewer_id) for a in mixed],
    )
    stories = await bulk_stories(api, authors)
    await bulk_stories(api, mixed, audience="CLOSE_FRIENDS")
    await api.gql(SEEN, {"ids": [story_gid(s) for s in stories[:3]]}, viewer.token)
    with api.count_statements() as statements:
        data = await api.gql(TRAY, {"first": 100}, viewer.token)
    assert len(data["storiesTray"]["edges"]) == owners
    return len(statements), sum(len(e["node"]["stories"]) for e in data["storiesTray"]["edges"])


async def test_a_tray_of_10_owners_costs_the_same_statements_as_one_of_50(asgi: ServerFactory) -> None:
    # 50 owners with every story is over the default query cost (each may have 100): this counts statements.
    async with asgi(max_query_cost=100_000) as api:
        small, small_stories = await tray_statements(api, 10, "s")
        large, large_stories = await tray_statements(api, 50, "l")
    assert (small_stories, large_stories) == (15, 75)
    assert small == large
    assert large <= 6, large  # token, candidate stories, owners, relationships, seen marks
