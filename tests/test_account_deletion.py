"""deleteAccount: everything the account made is gone from every read path the instant it returns,
its messages stay as content-less tombstones (no seq gap), its media leaves storage after the outbox
runs, and its username is held for USERNAME_REUSE_DAYS."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.ids import to_global_id
from models import ConversationMember, Media
from resolvers.feed import fanout
from resolvers.feed.cache import FeedCache
from tests.conversation_helpers import HISTORY, REACT
from tests.engagement import COMMENTS, FOLLOW, LIKE, activity_of, comment, react
from tests.harness import Api, ServerFactory, TestUser
from tests.posting import CREATE_POST, settle, user_id
from tests.story_helpers import create_story, db_id
from tests.test_conversations import send, start
from tests.test_credentials import signed_in_as
from tests.ws_client import graphql_socket

DELETE = "mutation Delete($password: String!) { deleteAccount(currentPassword: $password) }"
FEED = "query Feed { feed(first: 50) { edges { node { id author { username } } } } }"
TRAY = "query Tray { storiesTray { edges { node { owner { username } } } } }"
USER = "query User($name: String!) { user(username: $name) { id followerCount followingCount } }"
NODE = "query Node($id: ID!) { node(id: $id) { id } }"
CONVERSATION = """
query Conversation($id: ID!) {
  node(id: $id) { ... on Conversation { members { username } lastMessage { seq body } } }
}
"""


async def post_with_photo(api: Api, user: TestUser, caption: str) -> str:
    media = await api.upload(user)
    data = await api.gql(CREATE_POST, {"input": {"caption": caption, "mediaIds": [media]}}, token=user.token)
    post_id: str = data["createPost"]["id"]
    return post_id


async def feed_of(api: Api, user: TestUser) -> list[str]:
    return [edge["node"]["id"] for edge in (await api.gql(FEED, token=user.token))["feed"]["edges"]]


async def tray_of(api: Api, user: TestUser) -> list[str]:
    edges = (await api.gql(TRAY, token=user.token))["storiesTray"]["edges"]
    return [edge["node"]["owner"]["username"] for edge in edges]


async def pushed_feed(api: Api, user: TestUser) -> list[int] | None:
    """The post ids in the user's Redis feed set (hybrid mode), or None without Redis."""
    cache = fanout.cache(api.services)
    if cache is None:
        return None
    members: list[Any] = list(await cache.redis.zrange(FeedCache.key(user_id(user)), 0, -1))
    return sorted(int(bytes(m)[:20]) for m in members if not bytes(m).startswith(b"!"))


async def test_deleting_an_account_removes_it_from_every_path(api: Api, backend: str) -> None:
    zoe, ann = await api.sign_up("zoe"), await api.sign_up("ann")
    await api.gql(FOLLOW, {"id": zoe.id}, ann.token)
    await api.gql(FOLLOW, {"id": ann.id}, zoe.token)
    zoe_post = await post_with_photo(api, zoe, "mine")
    ann_post = await post_with_photo(api, ann, "hers")
    zoe_story = await create_story(api, zoe, "PUBLIC")
    ann_story = await create_story(api, ann, "PUBLIC")
    await api.gql(LIKE, {"id": ann_post}, zoe.token)
    await comment(api, zoe, ann_post, "lovely")
    await react(api, zoe, ann_story)
    cid = await start(api, ann, zoe)
    sent = [
        await send(api, sender, cid, body) for sender, body in ((ann, "hi"), (zoe, "a secret"), (ann, "bye"))
    ]
    await api.gql(REACT, {"id": sent[0]["id"], "emoji": "😂"}, token=zoe.token)
    await settle(api)
    assert zoe_post in await feed_of(api, ann)
    pushed = await pushed_feed(api, ann)
    assert (pushed is not None) == (backend == "postgresql")  # PostgreSQL runs with Redis: pushed feeds
    assert pushed is None or db_id(zoe_post) in pushed
    assert await tray_of(api, ann) == ["ann", "zoe"]
    assert {item["kind"] for item in await activity_of(api, ann)} == {
        "FOLLOWED",
        "POST_LIKED",
        "POST_COMMENTED",
        "STORY_REACTED",
    }
    async with api.services.db.read() as session:
        keys = [
            m.storage_key for m in await session.scalars(select(Media).where(Media.owner_id == user_id(zoe)))
        ]
    assert len(keys) == 2 and all([await api.services.storage.head(key) for key in keys])

    wrong = await api.gql_error(DELETE, {"password": "not the password"}, zoe.token)
    assert wrong.codes == ["BAD_USER_INPUT"]
    assert (await api.gql(DELETE, {"password": zoe.password}, zoe.token)) == {"deleteAccount": True}

    # At once, before any background work: no path shows anything of zoe.
    assert await signed_in_as(api, zoe.token, ended="TOKEN_UNKNOWN") is None
    assert await feed_of(api, ann) == [ann_post]
    pushed = await pushed_feed(api, ann)
    assert pushed is None or db_id(zoe_post) not in pushed
    assert await tray_of(api, ann) == ["ann"]
    for node in (zoe.id, zoe_post, zoe_story):
        assert (await api.gql(NODE, {"id": node}, ann.token))["node"] is None, node
    assert (await api.gql(USER, {"name": "zoe"}, ann.token))["user"] is None
    assert (await api.gql(USER, {"name": "ann"}, ann.token))["user"]["followerCount"] == 0
    post = (await api.gql(COMMENTS, {"id": ann_post}, ann.token))["node"]
    assert post["commentCount"] == 0 and post["comments"]["edges"] == []
    assert (
        await api.gql("query($id: ID!) { node(id: $id) { ... on Post { likeCount } } }", {"id": ann_post})
    )["node"]["likeCount"] == 0
    assert await activity_of(api, ann) == []
    history = (await api.gql(HISTORY, {"id": cid, "last": 10}, ann.token))["node"]["messages"]["edges"]
    shown = [(m["node"]["seq"], m["node"]["body"], m["node"]["unsentAt"] is not None) for m in history]
    assert shown == [(1, "hi", False), (2, "", True), (3, "bye", False)]
    assert history[0]["node"]["reactions"] == []
    conversation = (await api.gql(CONVERSATION, {"id": cid}, ann.token))["node"]
    assert [m["username"] for m in conversation["members"]] == ["ann"]

    # Its media leaves storage once the outbox has run.
    await settle(api)
    assert [await api.services.storage.head(key) for key in keys] == [None, None]


async def test_the_username_is_held_then_free(api: Api) -> None:
    yan = await api.sign_up("yan")
    await api.gql(DELETE, {"password": yan.password}, yan.token)
    log_in = await api.post(
        'mutation { logIn(input: {username: "yan", password: "correct horse battery"}) { token } }'
    )
    assert log_in["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    taken = await api.post(
        'mutation { signUp(input: {username: "yan", password: "correct horse battery"}) { token } }'
    )
    assert taken["errors"][0]["extensions"]["code"] == "CONFLICT"
    api.clock.advance(api.services.settings.username_reuse_days * 86_400 + 1)
    again = await api.sign_up("yan")
    assert again.id != yan.id


async def test_the_tombstone_cannot_be_found_or_signed_in_to(api: Api) -> None:
    xia = await api.sign_up("xia")
    await api.gql(DELETE, {"password": xia.password}, xia.token)
    tombstone = f"~{user_id(xia):x}"
    assert (await api.gql(USER, {"name": tombstone}))["user"] is None
    body: Any = await api.post(
        'mutation($u: String!) { logIn(input: {username: $u, password: "correct horse battery"}) { token } }',
        {"u": tombstone},
    )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await api.gql(NODE, {"id": to_global_id("User", user_id(xia))}))["node"] is None


async def test_a_large_account_s_pulled_posts_leave_the_feed_too(asgi: ServerFactory) -> None:
    async with asgi(fanout_threshold=0) as api:  # every author pulled at read time (with Redis)
        zoe, ann = await api.sign_up("zoe"), await api.sign_up("ann")
        await api.gql(FOLLOW, {"id": zoe.id}, ann.token)
        zoe_post = await post_with_photo(api, zoe, "pulled")
        await settle(api)
        assert await feed_of(api, ann) == [zoe_post]
        await api.gql(DELETE, {"password": zoe.password}, zoe.token)
        assert await feed_of(api, ann) == []


@pytest.mark.served
async def test_deleting_closes_the_account_s_sockets(api: Api) -> None:
    wes = await api.sign_up("wes")
    async with graphql_socket(api.ws_url, wes.token) as socket:
        await api.gql(DELETE, {"password": wes.password}, wes.token)
        assert await socket.closed() == (4403, "Token revoked")


async def test_a_group_loses_the_account_and_keeps_an_admin(api: Api) -> None:
    vic, ann, bob = await api.sign_up("vic"), await api.sign_up("ann"), await api.sign_up("bob")
    for user in (ann, bob):  # members who follow the creator: the group is in their inbox
        await api.gql(FOLLOW, {"id": vic.id}, user.token)
    group = await start(api, vic, ann, bob, title="Trip")
    await send(api, vic, group, "plans")
    await api.gql(DELETE, {"password": vic.password}, vic.token)
    members = (await api.gql(CONVERSATION, {"id": group}, ann.token))["node"]["members"]
    assert sorted(m["username"] for m in members) == ["ann", "bob"]
    async with api.services.db.read() as session:
        admins = list(
            await session.scalars(
                select(ConversationMember.user_id).where(
                    ConversationMember.conversation_id == db_id(group), ConversationMember.is_admin.is_(True)
                )
            )
        )
    assert admins in ([user_id(ann)], [user_id(bob)])


SEARCH = "query Search($q: String!) { searchUsers(query: $q) { edges { node { username } } } }"
SUGGESTED = "query Suggested { suggestedUsers { username } }"
MENTIONS = "query Mentions($id: ID!) { node(id: $id) { ... on Post { mentions { username } } } }"


async def test_search_suggestions_and_mentions_forget_the_account(api: Api) -> None:
    zoe, ann, bob = await api.sign_up("zoe"), await api.sign_up("ann"), await api.sign_up("bob")
    await api.gql(FOLLOW, {"id": bob.id}, ann.token)
    await api.gql(FOLLOW, {"id": zoe.id}, bob.token)
    post = await post_with_photo(api, ann, "hello @zoe")

    async def seen_by_ann() -> tuple[list[str], list[str], list[str]]:
        found = (await api.gql(SEARCH, {"q": "zoe"}, ann.token))["searchUsers"]["edges"]
        suggested = (await api.gql(SUGGESTED, token=ann.token))["suggestedUsers"]
        mentions = (await api.gql(MENTIONS, {"id": post}, ann.token))["node"]["mentions"]
        return (
            [e["node"]["username"] for e in found],
            [u["username"] for u in suggested],
            [u["username"] for u in mentions],
        )

    assert await seen_by_ann() == (["zoe"], ["zoe"], ["zoe"])  # suggestions now cached (with Redis)
    await api.gql(DELETE, {"password": zoe.password}, zoe.token)
    assert await seen_by_ann() == ([], [], [])
    tombstone = f"~{user_id(zoe):x}"
    assert (await api.gql(SEARCH, {"q": tombstone}, ann.token))["searchUsers"]["edges"] == []


RANKED = """
query Ranked($after: String) {
  feed(first: 1, after: $after, order: RANKED) { edges { node { id } } pageInfo { endCursor } }
}
"""


async def test_a_ranked_feed_page_taken_before_the_deletion_shows_none_of_it_after(api: Api) -> None:
    zoe, ann = await api.sign_up("zoe"), await api.sign_up("ann")
    await api.gql(FOLLOW, {"id": zoe.id}, ann.token)
    posts = {await post_with_photo(api, zoe, f"zoe {n}") for n in range(3)}
    mine = await post_with_photo(api, ann, "ann's")
    await settle(api)
    first = (await api.gql(RANKED, {}, ann.token))["feed"]
    await api.gql(DELETE, {"password": zoe.password}, zoe.token)
    after, rest = first["pageInfo"]["endCursor"], []
    while after:
        page = (await api.gql(RANKED, {"after": after}, ann.token))["feed"]
        rest += [edge["node"]["id"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["edges"] else None
    assert not posts & set(rest)
    assert mine in rest or first["edges"][0]["node"]["id"] == mine
