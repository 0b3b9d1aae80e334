"""The stories tray on the compiled executor: it runs compiled, answers as strawberry does (the
suite's differential mode compares every compiled answer), and costs the same statements
whatever the page holds."""

from __future__ import annotations

from tests.harness import Api, ServerFactory, TestUser
from tests.story_helpers import add_edges, bulk_stories, bulk_users, create_story, db_id
from tests.test_compiled_execution import counted

TRAY = """
query Tray($first: Int, $after: String) {
  storiesTray(first: $first, after: $after) {
    edges { cursor node { id hasUnseen latestStoryAt
      owner { id username displayName isPrivate avatar { id url } }
      stories { id audience createdAt expiresAt viewerHasSeen viewerReaction viewCount
        author { id username }
        media { id url kind status contentType width height placeholder } } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
SEEN = "mutation($ids: [ID!]!) { markStoriesSeen(ids: $ids) { id } }"
REACT = "mutation($id: ID!, $e: String!) { reactToStory(storyId: $id, emoji: $e) { id } }"
PRIVATE = "mutation { updateProfile(input: {isPrivate: true}) { isPrivate } }"


async def a_tray_world(api: Api) -> tuple[TestUser, dict[str, TestUser], dict[str, str]]:
    """A viewer with stories of their own and of others: seen, reacted to, close friends only, of
    a private account, and some the tray must leave out (a block each way, a hidden story, an
    expired one, a close-friends story of a list the viewer is not on)."""
    viewer = await api.sign_up("viewer")
    names = ["anna", "ben", "cleo", "dora", "eli", "fay", "gus"]
    users = {name: await api.sign_up(name) for name in names}
    me, ids = db_id(viewer.id), {name: db_id(user.id) for name, user in users.items()}
    await api.gql(PRIVATE, token=users["ben"].token)
    await add_edges(
        api,
        [("follow", me, ids[name]) for name in names]
        + [
            ("follow", ids["anna"], me),
            ("close_friend", ids["cleo"], me),
            ("block", ids["dora"], me),  # dora blocks the viewer
            ("block", me, ids["eli"]),  # the viewer blocks eli
            ("hide", ids["fay"], me),  # fay hides her stories from the viewer
        ],
    )
    await create_story(api, users["gus"])
    api.clock.advance(api.services.settings.story_ttl_seconds + 1)  # gus's story expires
    stories = {
        "own": await create_story(api, viewer),
        "anna": await create_story(api, users["anna"], "PUBLIC"),
        "anna2": await create_story(api, users["anna"]),
        "ben": await create_story(api, users["ben"]),
        "cleo": await create_story(api, users["cleo"], "CLOSE_FRIENDS"),
        "cleo_public": await create_story(api, users["cleo"], "PUBLIC"),
        "dora": await create_story(api, users["dora"]),
        "eli": await create_story(api, users["eli"]),
        "fay": await create_story(api, users["fay"]),
        "gus_cf": await create_story(api, users["gus"], "CLOSE_FRIENDS"),  # not on gus's list
    }
    await api.gql(SEEN, {"ids": [stories["anna"], stories["ben"]]}, viewer.token)
    await api.gql(REACT, {"id": stories["anna"], "e": "🔥"}, viewer.token)
    await api.gql(SEEN, {"ids": [stories["own"]]}, users["anna"].token)  # one view for the viewer's count
    return viewer, users, stories


async def test_the_tray_runs_compiled_and_shows_what_strawberry_shows(asgi: ServerFactory) -> None:
    async with asgi(max_query_cost=100_000) as api:
        await the_tray_runs_compiled(api)


async def the_tray_runs_compiled(api: Api) -> None:
    viewer, _, stories = await a_tray_world(api)
    body, executors = await counted(api, TRAY, {}, viewer)
    assert executors == (1, 0), body
    edges = body["data"]["storiesTray"]["edges"]
    entries = {e["node"]["owner"]["username"]: e["node"] for e in edges}
    assert list(entries) == ["viewer", "cleo", "anna", "ben"]  # own, unseen newest first, then seen
    assert [s["id"] for s in entries["anna"]["stories"]] == [stories["anna"], stories["anna2"]]
    assert [s["id"] for s in entries["cleo"]["stories"]] == [stories["cleo"], stories["cleo_public"]]
    assert (entries["ben"]["hasUnseen"], entries["ben"]["owner"]["isPrivate"]) == (False, True)
    first_anna = entries["anna"]["stories"][0]
    assert (first_anna["viewerHasSeen"], first_anna["viewerReaction"], first_anna["viewCount"]) == (
        True,
        "🔥",
        None,
    )
    assert entries["viewer"]["stories"][0]["viewCount"] == 1  # only the author sees the count
    media = entries["cleo"]["stories"][0]["media"]
    assert media["status"] == "READY" and media["url"]


async def test_paging_the_tray_compiled_keeps_strawberrys_order(asgi: ServerFactory) -> None:
    async with asgi(max_query_cost=100_000) as api:
        viewer, _, _ = await a_tray_world(api)
        assert await all_owners(api, viewer) == ["viewer", "cleo", "anna", "ben"]


async def all_owners(api: Api, viewer: TestUser) -> list[str]:
    owners: list[str] = []
    after = None
    while True:
        body, executors = await counted(api, TRAY, {"first": 1, "after": after}, viewer)
        assert executors == (1, 0), body
        page = body["data"]["storiesTray"]
        owners += [e["node"]["owner"]["username"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return owners


async def tray_statements(api: Api, owners: int, prefix: str) -> int:
    viewer = await api.sign_up(f"{prefix}viewer")
    authors = await bulk_users(api, owners, prefix=prefix)
    await add_edges(api, [("follow", db_id(viewer.id), author) for author in authors])
    await bulk_stories(api, authors)
    await bulk_stories(api, authors[::2], audience="PUBLIC")
    with api.count_statements() as statements:
        body, executors = await counted(api, TRAY, {"first": 50}, viewer)
    assert executors == (1, 0), body
    assert len(body["data"]["storiesTray"]["edges"]) == owners
    return len(statements)


async def test_a_compiled_tray_costs_the_same_statements_for_2_owners_as_for_12(
    asgi: ServerFactory,
) -> None:
    async with asgi(max_query_cost=100_000) as api:
        small = await tray_statements(api, 2, "s")
        large = await tray_statements(api, 12, "l")
    assert small == large, (small, large)
    # Four `Database.ping`s, the tray page (owners, their stories and their rows in one
    # statement), the owners' relationships (blocks, follows), the reactions, the media.
    assert small <= 9, small


VIEWERS = """
query Viewers($id: ID!, $first: Int, $after: String) {
  node(id: $id) { id ... on Story { viewCount
    viewers(first: $first, after: $after) {
      edges { cursor node { viewedAt reaction user { id username } } }
      pageInfo { hasNextPage endCursor }
    } } }
}
"""
BLOCK = "mutation($id: ID!) { block(userId: $id) { id } }"


async def test_a_storys_viewers_run_compiled_for_its_author_only(api: Api) -> None:
    author = await api.sign_up("author")
    viewers = [await api.sign_up(name) for name in ("anna", "ben", "cleo")]
    await add_edges(api, [("follow", db_id(v.id), db_id(author.id)) for v in viewers])
    story = await create_story(api, author)
    for viewer in viewers:
        await api.gql(SEEN, {"ids": [story]}, viewer.token)
    await api.gql(REACT, {"id": story, "e": "😀"}, viewers[0].token)
    await api.gql(BLOCK, {"id": viewers[1].id}, author.token)  # the author blocks ben
    body, executors = await counted(api, VIEWERS, {"id": story, "first": 1}, author)
    assert executors == (1, 0), body
    page = body["data"]["node"]["viewers"]
    assert [e["node"]["user"]["username"] for e in page["edges"]] == ["cleo"]
    body, executors = await counted(
        api, VIEWERS, {"id": story, "first": 5, "after": page["pageInfo"]["endCursor"]}, author
    )
    assert executors == (1, 0), body
    edges = body["data"]["node"]["viewers"]["edges"]
    assert [(e["node"]["user"]["username"], e["node"]["reaction"]) for e in edges] == [("anna", "😀")]
    body, executors = await counted(api, VIEWERS, {"id": story}, viewers[0])
    assert executors == (1, 0), body
    assert body["data"]["node"]["viewers"] is None  # not the author
