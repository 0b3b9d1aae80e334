"""@mentions: stored from captions, MENTIONED items for captions and comments, and who sees what."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engagement import APPROVE, BLOCK, DELETE_POST, FOLLOW, GO_PRIVATE, activity_of, comment
from tests.harness import Api, TestUser
from tests.posting import create_post
from tests.ws_client import graphql_socket

MENTIONS = "query($id: ID!) { node(id: $id) { ... on Post { caption mentions { username } hashtags } } }"
EDIT = "mutation($id: ID!, $caption: String!) { editPost(id: $id, caption: $caption) { id caption } }"
ADDED = "subscription { activityAdded { kind actors { username } post { id } comment { body } } }"


async def mentions_of(api: Api, viewer: TestUser, post_id: str) -> list[str] | None:
    node: Any = (await api.gql(MENTIONS, {"id": post_id}, token=viewer.token))["node"]
    return None if node is None else [user["username"] for user in node["mentions"]]


async def mentioned_items(api: Api, user: TestUser) -> list[tuple[list[str], str | None, str | None]]:
    """(actors, post id, comment body) of the user's MENTIONED items, newest first."""
    return [
        (
            [a["username"] for a in item["actors"]],
            (item["post"] or {}).get("id"),
            (item["comment"] or {}).get("body"),
        )
        for item in await activity_of(api, user)
        if item["kind"] == "MENTIONED"
    ]


async def test_a_caption_mentions_existing_accounts_in_order_and_notifies_them(api: Api) -> None:
    author, bob, carol = await api.sign_up("author"), await api.sign_up("bob"), await api.sign_up("carol")
    post = await create_post(api, author, "with @Carol and @bob, not @nobody, me@example.com or @bob again")
    assert await mentions_of(api, author, post) == ["carol", "bob"]
    assert await mentioned_items(api, bob) == [(["author"], post, None)]
    assert await mentioned_items(api, carol) == [(["author"], post, None)]
    assert await mentioned_items(api, author) == []  # not for one's own doing, nor to oneself

    own = await create_post(api, author, "talking to myself @author")
    assert await mentions_of(api, author, own) == ["author"] and await mentioned_items(api, author) == []


async def test_comment_mentions_notify_with_the_comment(api: Api) -> None:
    author, fan, bob = await api.sign_up("author"), await api.sign_up("fan"), await api.sign_up("bob")
    post = await create_post(api, author)
    await comment(api, fan, post, "look @bob")
    assert await mentioned_items(api, bob) == [(["fan"], post, "look @bob")]

    # On a private account's posts: only those who may see them hear of it, or keep the item.
    await api.gql(GO_PRIVATE, token=author.token)
    await api.gql(FOLLOW, {"id": author.id}, token=fan.token)
    await api.gql(APPROVE, {"id": fan.id}, token=author.token)
    hidden = await create_post(api, author)
    await comment(api, fan, hidden, "@bob @author see this")
    assert await mentioned_items(api, bob) == []  # nothing new, and the first post is hidden from him now
    assert await mentioned_items(api, author) == [(["fan"], hidden, "@bob @author see this")]


async def test_no_item_across_a_block_or_for_a_post_the_mentioned_cannot_see(api: Api) -> None:
    author = await api.sign_up("author")
    blocker, blocked, outsider, follower = (
        await api.sign_up("blocker"), await api.sign_up("blocked"),
        await api.sign_up("outsider"), await api.sign_up("follower"),
    )  # fmt: skip
    await api.gql(BLOCK, {"id": author.id}, token=blocker.token)
    await api.gql(BLOCK, {"id": blocked.id}, token=author.token)
    await api.gql(GO_PRIVATE, token=author.token)
    await api.gql(FOLLOW, {"id": author.id}, token=follower.token)
    await api.gql(APPROVE, {"id": follower.id}, token=author.token)

    post = await create_post(api, author, "@blocker @blocked @outsider @follower")
    assert await mentioned_items(api, follower) == [(["author"], post, None)]
    for user in (blocker, blocked, outsider):
        assert await mentioned_items(api, user) == [], user.username
    # Stored all the same; each viewer sees those outside a blocked pair with them.
    assert await mentions_of(api, author, post) == ["outsider", "follower"]
    await api.gql(BLOCK, {"id": outsider.id}, token=follower.token)
    assert await mentions_of(api, follower, post) == ["blocker", "blocked", "follower"]


async def test_an_edit_adds_and_removes_mentions_and_their_items(api: Api) -> None:
    author, bob, carol = await api.sign_up("author"), await api.sign_up("bob"), await api.sign_up("carol")
    post = await create_post(api, author, "hi @bob")
    [before] = await activity_of(api, bob)

    await api.gql(EDIT, {"id": post, "caption": "hi @bob and @carol"}, token=author.token)
    assert await mentions_of(api, author, post) == ["bob", "carol"]
    assert await mentioned_items(api, carol) == [(["author"], post, None)]
    [after] = await activity_of(api, bob)
    assert after["seq"] == before["seq"]  # still mentioned: no second notice

    await api.gql(EDIT, {"id": post, "caption": "hi @carol"}, token=author.token)
    assert await mentions_of(api, author, post) == ["carol"]
    assert await mentioned_items(api, bob) == []  # the mention is gone, and its item with it
    assert (await api.gql("{ activityUnseenCount }", token=bob.token))["activityUnseenCount"] == 0

    await api.gql(DELETE_POST, {"id": post}, token=author.token)
    assert await mentioned_items(api, carol) == []


@pytest.mark.served
async def test_a_mention_arrives_live(api: Api) -> None:
    author, bob = await api.sign_up("author"), await api.sign_up("bob")
    async with graphql_socket(api.ws_url, bob.token) as socket:
        op = await socket.subscribe(ADDED)
        await api.subscribed(bob)
        post = await create_post(api, author, "hey @bob")
        item = (await socket.next(op))["activityAdded"]
        assert item == {
            "kind": "MENTIONED",
            "actors": [{"username": "author"}],
            "post": {"id": post},
            "comment": None,
        }
