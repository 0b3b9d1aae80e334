"""Comments over GraphQL: adding (idempotent), limits, deleting, turning off, and who sees what."""

from __future__ import annotations

import asyncio

from tests.engagement import (
    ADD_COMMENT,
    APPROVE,
    BLOCK,
    COMMENT_NODE,
    COMMENTS,
    DELETE_COMMENT,
    DELETE_POST,
    DISABLE,
    FOLLOW,
    GO_PRIVATE,
    comment,
    comments_of,
)
from tests.harness import Api, TestUser
from tests.posting import create_post


async def test_comments_page_oldest_first_and_count(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    post = await create_post(api, alice)
    for n in range(5):
        await comment(api, bob if n % 2 else alice, post, f"c{n}")

    pages, after = [], None
    while True:
        node = (await api.gql(COMMENTS, {"id": post, "first": 2, "after": after}, bob.token))["node"]
        pages.append([edge["node"]["body"] for edge in node["comments"]["edges"]])
        if not node["comments"]["pageInfo"]["hasNextPage"]:
            break
        after = node["comments"]["pageInfo"]["endCursor"]
    assert pages == [["c0", "c1"], ["c2", "c3"], ["c4"]]
    assert node["commentCount"] == 5 and node["commentsDisabled"] is False
    for first in (0, 101):
        errors = await api.gql_error(COMMENTS, {"id": post, "first": first}, bob.token)
        assert errors.codes == ["BAD_USER_INPUT"]


async def test_a_retried_add_returns_the_first_comment(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    post, other = await create_post(api, alice), await create_post(api, alice)
    variables = {"post": post, "body": "First!", "cid": "retry-1"}
    sent = await asyncio.gather(*(api.gql(ADD_COMMENT, variables, bob.token) for _ in range(5)))
    assert len({data["addComment"]["id"] for data in sent}) == 1
    assert await comments_of(api, alice, post) == (1, ["First!"])

    errors = await api.gql_error(ADD_COMMENT, {**variables, "post": other}, bob.token)
    assert errors.codes == ["CONFLICT"] and errors.errors[0]["extensions"]["field"] == "clientId"
    assert await comments_of(api, alice, other) == (0, [])


async def test_bad_comments_are_refused_and_write_nothing(api: Api) -> None:
    alice = await api.sign_up()
    post = await create_post(api, alice)
    cases = [
        ({"body": ""}, "body"),
        ({"body": "   \n "}, "body"),
        ({"body": "x" * 2201}, "body"),
        ({"body": "bell\x07"}, "body"),
        ({"cid": ""}, "clientId"),
        ({"cid": "x" * 65}, "clientId"),
        ({"cid": "has space"}, "clientId"),
    ]
    for change, field in cases:
        variables = {"post": post, "body": "ok", "cid": "bad-1", **change}
        errors = await api.gql_error(ADD_COMMENT, variables, alice.token)
        assert errors.codes == ["BAD_USER_INPUT"], change
        assert errors.errors[0]["extensions"]["field"] == field, change
    assert await comments_of(api, alice, post) == (0, [])
    longest = {"post": post, "body": "é" * 2200, "cid": "ok-1"}
    assert (await api.gql(ADD_COMMENT, longest, alice.token))["addComment"]["body"] == "é" * 2200
    missing = {"post": "UG9zdDox", "body": "hi", "cid": "ok-2"}
    assert (await api.gql_error(ADD_COMMENT, missing, alice.token)).codes == ["NOT_FOUND"]
    assert (await api.gql_error(ADD_COMMENT, {**missing, "post": post})).codes == ["UNAUTHENTICATED"]


async def test_who_may_delete_a_comment(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    post = await create_post(api, alice)
    by_bob, by_carol = await comment(api, bob, post, "bob's"), await comment(api, carol, post, "carol's")

    errors = await api.gql_error(DELETE_COMMENT, {"id": by_bob}, carol.token)
    assert errors.codes == ["FORBIDDEN"]
    assert (await api.gql(DELETE_COMMENT, {"id": by_bob}, bob.token))["deleteComment"] == by_bob
    assert (await api.gql(DELETE_COMMENT, {"id": by_carol}, alice.token))["deleteComment"] == by_carol
    assert await comments_of(api, alice, post) == (0, [])
    assert (await api.gql_error(DELETE_COMMENT, {"id": by_bob}, bob.token)).codes == ["NOT_FOUND"]
    assert (await api.gql(COMMENT_NODE, {"id": by_bob}, alice.token))["node"] is None


async def test_turning_comments_off_refuses_new_ones_with_conflict(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    post = await create_post(api, alice)
    await comment(api, bob, post, "before")
    assert (await api.gql_error(DISABLE, {"post": post, "off": True}, bob.token)).codes == ["FORBIDDEN"]
    data = await api.gql(DISABLE, {"post": post, "off": True}, alice.token)
    assert data["setCommentsDisabled"] == {"commentsDisabled": True}

    for user in (bob, alice):
        errors = await api.gql_error(ADD_COMMENT, {"post": post, "body": "after", "cid": "off-1"}, user.token)
        assert errors.codes == ["CONFLICT"]
        assert errors.errors[0]["message"] == "The author turned comments off for this post."
    assert await comments_of(api, bob, post) == (1, ["before"])  # those already there stay

    await api.gql(DISABLE, {"post": post, "off": False}, alice.token)
    await comment(api, bob, post, "again")
    assert await comments_of(api, bob, post) == (2, ["before", "again"])


async def _world(api: Api) -> dict[str, TestUser]:
    names = ["owner", "private", "stranger", "follower", "outsider", "blocker", "blocked"]
    users = {name: await api.sign_up() for name in names}
    await api.gql(GO_PRIVATE, token=users["private"].token)
    await api.gql(FOLLOW, {"id": users["private"].id}, users["follower"].token)
    await api.gql(APPROVE, {"id": users["follower"].id}, users["private"].token)
    # owner blocks "blocked"; "blocker" blocks owner and private: both directions.
    await api.gql(BLOCK, {"id": users["blocked"].id}, users["owner"].token)
    await api.gql(BLOCK, {"id": users["blocked"].id}, users["private"].token)
    for target in ("owner", "private"):
        await api.gql(BLOCK, {"id": users[target].id}, users["blocker"].token)
    return users


async def test_visibility_table_for_comments(api: Api) -> None:
    users = await _world(api)
    public_post = await create_post(api, users["owner"])
    private_post = await create_post(api, users["private"])
    on_public = await comment(api, users["owner"], public_post, "first")
    on_private = await comment(api, users["private"], private_post, "first")
    table = {
        # viewer: (sees the public post's comments, sees the private post's comments)
        "stranger": (True, False),
        "follower": (True, True),
        "outsider": (True, False),  # a private account's non-follower
        "blocker": (False, False),
        "blocked": (False, False),
    }
    for name, (public_ok, private_ok) in table.items():
        viewer = users[name]
        for post, comment_id, ok in (
            (public_post, on_public, public_ok),
            (private_post, on_private, private_ok),
        ):
            node = (await api.gql(COMMENTS, {"id": post}, viewer.token))["node"]
            found = (await api.gql(COMMENT_NODE, {"id": comment_id}, viewer.token))["node"]
            add = await api.post(
                ADD_COMMENT, {"post": post, "body": "hi", "cid": f"{name}-{post}"}, viewer.token
            )
            delete = await api.post(DELETE_COMMENT, {"id": comment_id}, viewer.token)
            if ok:
                bodies = [edge["node"]["body"] for edge in node["comments"]["edges"]]
                assert bodies[0] == "first" and node["commentCount"] == len(bodies), (name, post)
                assert found is not None and "errors" not in add, (name, post, add)
                assert delete["errors"][0]["extensions"]["code"] == "FORBIDDEN", (name, post)
            else:
                assert node is None and found is None, (name, post)
                assert add["errors"][0]["extensions"]["code"] == "NOT_FOUND", (name, post)
                assert delete["errors"][0]["extensions"]["code"] == "NOT_FOUND", (name, post)


async def test_comments_across_a_block_are_hidden_both_ways_and_counts_agree(api: Api) -> None:
    host, kim, max_, third = [await api.sign_up() for _ in range(4)]
    post = await create_post(api, host)
    await comment(api, kim, post, "kim")
    await comment(api, max_, post, "max")
    await comment(api, third, post, "third")
    await api.gql(BLOCK, {"id": max_.id}, kim.token)
    assert await comments_of(api, kim, post) == (2, ["kim", "third"])
    assert await comments_of(api, max_, post) == (2, ["max", "third"])
    assert await comments_of(api, third, post) == (3, ["kim", "max", "third"])
    assert await comments_of(api, host, post) == (3, ["kim", "max", "third"])
    # A page is full even when hidden comments sit inside it.
    node = (await api.gql(COMMENTS, {"id": post, "first": 2}, kim.token))["node"]
    assert [edge["node"]["body"] for edge in node["comments"]["edges"]] == ["kim", "third"]
    assert node["comments"]["pageInfo"]["hasNextPage"] is False


async def test_the_post_author_may_remove_a_comment_a_block_hides_from_them(api: Api) -> None:
    host, troll = await api.sign_up(), await api.sign_up()
    post = await create_post(api, host)
    rude = await comment(api, troll, post, "rude")
    await api.gql(BLOCK, {"id": troll.id}, host.token)
    assert (await api.gql(DELETE_COMMENT, {"id": rude}, host.token))["deleteComment"] == rude
    fan = await api.sign_up()
    assert await comments_of(api, fan, post) == (0, [])


async def test_deleting_a_post_removes_its_comments_from_every_path(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    post = await create_post(api, alice)
    said = await comment(api, bob, post, "gone soon")
    await api.gql(DELETE_POST, {"id": post}, alice.token)
    assert (await api.gql(COMMENT_NODE, {"id": said}, bob.token))["node"] is None
    assert (await api.gql_error(DELETE_COMMENT, {"id": said}, bob.token)).codes == ["NOT_FOUND"]
    again = {"post": post, "body": "hello?", "cid": "late-1"}
    assert (await api.gql_error(ADD_COMMENT, again, bob.token)).codes == ["NOT_FOUND"]
