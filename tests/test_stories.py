"""Stories end to end: creating, deleting, seeing, reacting, and expiry at the boundary on every path."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from models import StoryEvent
from subscriptions import Message, user_channel
from tests.harness import Api, TestUser
from tests.story_helpers import CREATE_STORY, add_edges, create_story, db_id

STORY_NODE = """
query($id: ID!) {
  node(id: $id) {
    ... on Story { id audience viewerHasSeen viewerReaction viewCount
      viewers { edges { cursor node { user { username } viewedAt reaction } } pageInfo { hasNextPage } } }
  }
}
"""
PROFILE = "query($u: String!) { user(username: $u) { hasActiveStories stories { id } } }"
TRAY = "{ storiesTray(first: 10) { edges { node { owner { username } hasUnseen stories { id } } } } }"
SEEN = "mutation($ids: [ID!]!) { markStoriesSeen(ids: $ids) { id viewerHasSeen } }"
REACT = "mutation($id: ID!, $e: String!) { reactToStory(storyId: $id, emoji: $e) { id viewerReaction } }"
DELETE = "mutation($id: ID!) { deleteStory(id: $id) }"


async def author_and_follower(api: Api) -> tuple[TestUser, TestUser]:
    author, follower = await api.sign_up(), await api.sign_up()
    await add_edges(api, [("follow", db_id(follower.id), db_id(author.id))])
    return author, follower


async def test_create_story_defaults_to_followers_and_expires_after_the_ttl(api: Api) -> None:
    alice = await api.sign_up()
    media_id = await api.upload(alice, "STORY")
    story = (await api.gql(CREATE_STORY, {"input": {"mediaId": media_id}}, alice.token))["createStory"]
    assert story["audience"] == "FOLLOWERS"
    assert story["author"]["id"] == alice.id and story["media"] == {"id": media_id, "status": "READY"}
    created, expires = (datetime.fromisoformat(story[k]) for k in ("createdAt", "expiresAt"))
    assert expires - created == timedelta(seconds=86_400)
    again = await api.gql_error(CREATE_STORY, {"input": {"mediaId": media_id}}, alice.token)
    assert again.codes == ["BAD_USER_INPUT"]


async def test_create_story_refuses_other_media(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    post_media = await api.upload(alice, "POST")
    bobs_media = await api.upload(bob, "STORY")
    for media_id, code in ((post_media, "BAD_USER_INPUT"), (bobs_media, "NOT_FOUND")):
        errors = await api.gql_error(CREATE_STORY, {"input": {"mediaId": media_id}}, alice.token)
        assert errors.codes == [code]
    assert (await api.gql(PROFILE, {"u": alice.username}, alice.token))["user"]["stories"] == []
    unauthenticated = await api.gql_error(CREATE_STORY, {"input": {"mediaId": bobs_media}})
    assert unauthenticated.codes == ["UNAUTHENTICATED"]


async def test_seen_is_idempotent_and_keeps_the_first_view_time(api: Api) -> None:
    author, follower = await author_and_follower(api)
    story = await create_story(api, author)
    first_view = api.clock.now()
    seen = await api.gql(SEEN, {"ids": [story]}, follower.token)
    assert seen["markStoriesSeen"] == [{"id": story, "viewerHasSeen": True}]
    api.clock.advance(60)
    await api.gql(SEEN, {"ids": [story, story]}, follower.token)
    await api.gql(SEEN, {"ids": [story]}, author.token)  # the author's own view is not an audience view

    node = (await api.gql(STORY_NODE, {"id": story}, author.token))["node"]
    assert node["viewCount"] == 1
    (edge,) = node["viewers"]["edges"]
    assert edge["node"]["user"]["username"] == follower.username
    assert datetime.fromisoformat(edge["node"]["viewedAt"]) == first_view


async def test_viewers_are_author_only_most_recent_first_with_reactions(api: Api) -> None:
    author = await api.sign_up()
    viewers = [await api.sign_up() for _ in range(3)]
    await add_edges(api, [("follow", db_id(v.id), db_id(author.id)) for v in viewers])
    story = await create_story(api, author)
    for viewer in viewers:
        await api.gql(SEEN, {"ids": [story]}, viewer.token)
        api.clock.advance(1)
    await api.gql(REACT, {"id": story, "e": "🔥"}, viewers[0].token)

    node = (await api.gql(STORY_NODE, {"id": story}, author.token))["node"]
    assert [(e["node"]["user"]["username"], e["node"]["reaction"]) for e in node["viewers"]["edges"]] == [
        (viewers[2].username, None),
        (viewers[1].username, None),
        (viewers[0].username, "🔥"),
    ]
    page = await api.gql(
        "query($id: ID!, $a: String) { node(id: $id) { ... on Story { viewers(first: 2, after: $a) {"
        " edges { cursor node { user { username } } } pageInfo { hasNextPage endCursor } } } } }",
        {"id": story},
        author.token,
    )
    viewers_page = page["node"]["viewers"]
    assert viewers_page["pageInfo"]["hasNextPage"] is True
    rest = await api.gql(
        "query($id: ID!, $a: String) { node(id: $id) { ... on Story { viewers(first: 2, after: $a) {"
        " edges { node { user { username } } } pageInfo { hasNextPage } } } } }",
        {"id": story, "a": viewers_page["pageInfo"]["endCursor"]},
        author.token,
    )
    assert [e["node"]["user"]["username"] for e in rest["node"]["viewers"]["edges"]] == [viewers[0].username]

    other = (await api.gql(STORY_NODE, {"id": story}, viewers[0].token))["node"]
    assert other["viewers"] is None and other["viewCount"] is None
    assert other["viewerHasSeen"] is True and other["viewerReaction"] == "🔥"


async def test_a_reaction_is_one_emoji_replaced_by_the_next_and_published(api: Api) -> None:
    author, follower = await author_and_follower(api)
    story = await create_story(api, author)
    for bad in ("", "a", "ok", "😀😀", "😀 ", "<3"):
        errors = await api.gql_error(REACT, {"id": story, "e": bad}, follower.token)
        assert errors.codes == ["BAD_USER_INPUT"], bad

    async with api.services.pubsub.subscribe(user_channel(db_id(author.id))) as subscription:
        await api.gql(REACT, {"id": story, "e": "😀"}, follower.token)
        reacted = await api.gql(REACT, {"id": story, "e": "👍🏽"}, follower.token)
        # The author's channel also carries their activity items (activity_added): keep the reactions.
        events: list[Message] = []
        while len(events) < 2:
            received = await asyncio.wait_for(anext(subscription), 5)
            if received.event["type"] == "story_reacted":
                events.append(received)

    assert reacted["reactToStory"]["viewerReaction"] == "👍🏽"
    assert [(m.event["type"], m.event["emoji"]) for m in events] == [
        ("story_reacted", "😀"),
        ("story_reacted", "👍🏽"),
    ]
    assert events[1].event["story_id"] == db_id(story)
    assert events[1].event["user_id"] == db_id(follower.id)
    node = (await api.gql(STORY_NODE, {"id": story}, author.token))["node"]
    assert [e["node"]["reaction"] for e in node["viewers"]["edges"]] == ["👍🏽"]


async def test_only_the_author_deletes_and_a_deleted_story_is_gone(api: Api) -> None:
    author, follower = await author_and_follower(api)
    story = await create_story(api, author)
    assert (await api.gql_error(DELETE, {"id": story}, follower.token)).codes == ["FORBIDDEN"]
    assert (await api.gql(DELETE, {"id": story}, author.token)) == {"deleteStory": story}

    for user in (author, follower):
        assert (await api.gql(STORY_NODE, {"id": story}, user.token))["node"] is None
        profile = (await api.gql(PROFILE, {"u": author.username}, user.token))["user"]
        assert profile == {"hasActiveStories": False, "stories": []}
    assert (await api.gql_error(DELETE, {"id": story}, author.token)).codes == ["NOT_FOUND"]
    async with api.services.db.read() as session:
        kinds = list(
            await session.scalars(select(StoryEvent.kind).where(StoryEvent.story_id == db_id(story)))
        )
    assert kinds == ["story_deleted"]


async def test_expiry_is_exact_to_the_second_on_every_path(api: Api) -> None:
    author, follower = await author_and_follower(api)
    story = await create_story(api, author, "PUBLIC")
    api.clock.advance(86_400 - 1)

    for user in (author, follower):
        assert (await api.gql(STORY_NODE, {"id": story}, user.token))["node"]["id"] == story
        assert (await api.gql(PROFILE, {"u": author.username}, user.token))["user"] == {
            "hasActiveStories": True,
            "stories": [{"id": story}],
        }
        tray = (await api.gql(TRAY, token=user.token))["storiesTray"]["edges"]
        assert [s["id"] for edge in tray for s in edge["node"]["stories"]] == [story]
    await api.gql(SEEN, {"ids": [story]}, follower.token)
    await api.gql(REACT, {"id": story, "e": "❤️"}, follower.token)
    node = (await api.gql(STORY_NODE, {"id": story}, author.token))["node"]
    assert node["viewCount"] == 1 and len(node["viewers"]["edges"]) == 1

    api.clock.advance(2)

    for user in (author, follower):
        assert (await api.gql(STORY_NODE, {"id": story}, user.token))["node"] is None
        assert (await api.gql(PROFILE, {"u": author.username}, user.token))["user"] == {
            "hasActiveStories": False,
            "stories": [],
        }
        assert (await api.gql(TRAY, token=user.token))["storiesTray"]["edges"] == []
        assert (await api.gql_error(SEEN, {"ids": [story]}, user.token)).codes == ["NOT_FOUND"]
        assert (await api.gql_error(REACT, {"id": story, "e": "❤️"}, user.token)).codes == ["NOT_FOUND"]
    assert (await api.gql_error(DELETE, {"id": story}, author.token)).codes == ["NOT_FOUND"]


async def test_a_graph_change_holds_on_the_very_next_request(api: Api) -> None:
    author, friend = await api.sign_up(), await api.sign_up()
    await api.gql("mutation($id: ID!) { follow(userId: $id) { id } }", {"id": author.id}, friend.token)
    await api.gql(
        "mutation($id: ID!) { setCloseFriend(userId: $id, isCloseFriend: true) { id } }",
        {"id": friend.id},
        author.token,
    )
    followers_story = await create_story(api, author, "FOLLOWERS")
    close_story = await create_story(api, author, "CLOSE_FRIENDS")

    async def visible() -> set[str]:
        profile = (await api.gql(PROFILE, {"u": author.username}, friend.token))["user"]
        return {s["id"] for s in profile["stories"]} if profile else set()

    assert await visible() == {followers_story, close_story}
    await api.gql("mutation($id: ID!) { unfollow(userId: $id) { id } }", {"id": author.id}, friend.token)
    assert await visible() == {close_story}
    await api.gql(
        "mutation($id: ID!) { setCloseFriend(userId: $id, isCloseFriend: false) { id } }",
        {"id": friend.id},
        author.token,
    )
    assert await visible() == set()
    await api.gql(
        "mutation($id: ID!) { setCloseFriend(userId: $id, isCloseFriend: true) { id } }",
        {"id": friend.id},
        author.token,
    )
    assert await visible() == {close_story}
    await api.gql("mutation($id: ID!) { block(userId: $id) { id } }", {"id": friend.id}, author.token)
    assert await visible() == set()
    assert (await api.gql_error(REACT, {"id": close_story, "e": "😀"}, friend.token)).codes == ["NOT_FOUND"]


async def test_mark_seen_limits_and_all_or_nothing(api: Api) -> None:
    author, follower = await author_and_follower(api)
    stranger = await api.sign_up()
    visible = await create_story(api, author, "FOLLOWERS")
    close = await create_story(api, author, "CLOSE_FRIENDS")
    assert (await api.gql_error(SEEN, {"ids": []}, follower.token)).codes == ["BAD_USER_INPUT"]
    assert (await api.gql_error(SEEN, {"ids": [visible] * 101}, follower.token)).codes == ["BAD_USER_INPUT"]
    assert (await api.gql_error(SEEN, {"ids": [visible, close]}, follower.token)).codes == ["NOT_FOUND"]
    assert (await api.gql_error(SEEN, {"ids": ["bm90LWFuLWlk"]}, follower.token)).codes == ["NOT_FOUND"]
    assert (await api.gql_error(SEEN, {"ids": [visible]}, stranger.token)).codes == ["NOT_FOUND"]
    node = (await api.gql(STORY_NODE, {"id": visible}, follower.token))["node"]
    assert node["viewerHasSeen"] is False
