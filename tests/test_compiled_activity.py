"""The activity inbox on the compiled executor: it runs compiled, answers as strawberry does (the
suite's differential mode compares every compiled answer), and costs the same statements whatever
the page holds."""

from __future__ import annotations

from bench.scenarios import ACTIVITY
from tests.engagement import BLOCK, FOLLOW, LIKE, UNLIKE, comment, react, reply
from tests.harness import Api, ServerFactory, TestUser
from tests.posting import create_post
from tests.story_helpers import create_story
from tests.test_compiled_execution import counted

INBOX = """
query Inbox($first: Int, $after: String) {
  activityUnseenCount
  activity(first: $first, after: $after) {
    edges { cursor node {
      id kind actorCount emoji seq isUnseen updatedAt
      actors { id username avatar { url } }
      post { id caption author { username } media { url } }
      comment { id }
      story { id expiresAt media { url } }
      message { id body sender { username } }
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Activity { kind actorCount actors { username } } } }"


async def fans_act(api: Api, owner: TestUser, fans: list[TestUser]) -> None:
    """Each fan follows the owner, likes and comments on a post, reacts and replies to a story."""
    post = await create_post(api, owner, "a post")
    story = await create_story(api, owner, "PUBLIC")
    for fan in fans:
        await api.gql(FOLLOW, {"id": owner.id}, fan.token)
        await api.gql(LIKE, {"id": post}, fan.token)
        await comment(api, fan, post, f"from {fan.username}")
        await react(api, fan, story)
        await reply(api, fan, story, f"reply from {fan.username}")


async def test_the_inbox_runs_compiled_and_leaves_out_what_strawberry_leaves_out(asgi: ServerFactory) -> None:
    async with asgi(max_query_cost=100_000) as api:
        owner = await api.sign_up("owner")
        fans = [await api.sign_up(name) for name in ("anna", "ben", "cleo", "dora")]
        anna, ben, cleo, dora = fans
        await fans_act(api, owner, fans)
        await api.gql(BLOCK, {"id": owner.id}, ben.token)  # ben blocks the owner
        await api.gql(BLOCK, {"id": cleo.id}, owner.token)  # the owner blocks cleo
        body, executors = await counted(api, INBOX, {"first": 50}, owner)
        assert executors == (1, 0), body
        items = [edge["node"] for edge in body["data"]["activity"]["edges"]]
        actors = {actor["username"] for item in items for actor in item["actors"]}
        assert actors == {"anna", "dora"}
        liked = next(item for item in items if item["kind"] == "POST_LIKED")
        assert (liked["actorCount"], liked["post"]["caption"]) == (2, "a post")
        assert body["data"]["activityUnseenCount"] == len(items)

        await api.gql(UNLIKE, {"id": liked["post"]["id"]}, dora.token)
        api.clock.advance(24 * 3600)  # the story expires: reactions go, replies stay without it
        body, executors = await counted(api, INBOX, {"first": 50}, owner)
        assert executors == (1, 0), body
        items = [edge["node"] for edge in body["data"]["activity"]["edges"]]
        assert not any(item["kind"] == "STORY_REACTED" for item in items)
        replies = [item for item in items if item["kind"] == "STORY_REPLIED"]
        assert [item["story"] for item in replies] == [None, None]
        assert {item["message"]["body"] for item in replies} == {"reply from anna", "reply from dora"}
        liked = next(item for item in items if item["kind"] == "POST_LIKED")
        assert [actor["username"] for actor in liked["actors"]] == ["anna"]

        node, executors = await counted(api, NODE, {"id": liked["id"]}, owner)
        assert executors == (1, 0), node
        assert node["data"]["node"]["actors"] == [{"username": "anna"}]
        node, executors = await counted(api, NODE, {"id": liked["id"]}, anna)
        assert executors == (1, 0) and node["data"]["node"] is None  # someone else's item


async def test_paging_the_inbox_compiled(asgi: ServerFactory) -> None:
    async with asgi(max_query_cost=100_000) as api:
        owner = await api.sign_up("owner")
        await fans_act(api, owner, [await api.sign_up(f"fan{n}") for n in range(2)])
        kinds: list[str] = []
        after = None
        while True:
            body, executors = await counted(api, INBOX, {"first": 3, "after": after}, owner)
            assert executors == (1, 0), body
            page = body["data"]["activity"]
            kinds += [edge["node"]["kind"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert sorted(kinds) == sorted(
            ["FOLLOWED"] * 2
            + ["POST_LIKED"]
            + ["POST_COMMENTED"] * 2
            + ["STORY_REACTED"] * 2
            + ["STORY_REPLIED"] * 2
        )


async def inbox_statements(api: Api, fans: int, prefix: str) -> int:
    owner = await api.sign_up(f"{prefix}owner")
    await fans_act(api, owner, [await api.sign_up(f"{prefix}fan{n}") for n in range(fans)])
    with api.count_statements() as statements:
        body, executors = await counted(api, INBOX, {"first": 50}, owner)
    assert executors == (1, 0), body
    assert len(body["data"]["activity"]["edges"]) == 1 + 4 * fans
    return len(statements)


async def test_a_compiled_inbox_costs_the_same_statements_for_5_items_as_for_17(asgi: ServerFactory) -> None:
    async with asgi(max_query_cost=1_000_000) as api:
        assert await inbox_statements(api, 1, "a") == await inbox_statements(api, 4, "b")


async def test_the_bench_inbox_is_one_statement_on_postgresql(api: Api) -> None:
    """bench/scenarios.py's activity document: the page, each item's actors and count, whether it
    is unseen and whether its post, comment, story and message still show, in one statement on
    PostgreSQL (execution/activity_page.py); SQLite keeps the loaders' statements."""
    owner = await api.sign_up("owner")
    fans = [await api.sign_up(f"fan{n}") for n in range(3)]
    await fans_act(api, owner, fans)
    await api.gql(BLOCK, {"id": fans[2].id}, owner.token)
    counts = []
    for first in (3, 20, 20):
        with api.count_statements() as statements:
            data = await api.gql(ACTIVITY, {"first": first}, owner.token)
        counts.append(len(statements))
    items = [edge["node"] for edge in data["activity"]["edges"]]
    assert len(items) == 1 + 4 * 2  # fan2's items are across the block
    assert {actor["username"] for item in items for actor in item["actors"]} == {"fan0", "fan1"}
    if api.services.db.is_sqlite:
        assert counts[1:] == [12, 12], counts
    else:
        assert counts[1:] == [1, 1], counts  # was 12
