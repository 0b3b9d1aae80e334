"""setMuted: muted posts leave the viewer's feed (both orders, both stores), muted stories leave the
tray; the follow stays and the muted account sees no difference."""

from __future__ import annotations

from tests.harness import Api
from tests.posting import create_post, settle, user_id
from tests.story_helpers import create_story, db_id
from tests.test_feed_hybrid import cached_post_ids, feed_redis, hybrid, hybrid_settings  # noqa: F401

FOLLOW = "mutation($id: ID!) { follow(userId: $id) { id } }"
MUTE = """
mutation($id: ID!, $posts: Boolean!, $stories: Boolean!) {
  setMuted(userId: $id, posts: $posts, stories: $stories) {
    mutedPosts mutedStories viewerFollowStatus
  }
}
"""
FEED = """
query($order: FeedOrder) { feed(first: 20, order: $order) { edges { node { id author { username } } } } }
"""
TRAY = "{ storiesTray(first: 20) { edges { node { owner { username } } } } }"
PROFILE = "query($name: String!) { user(username: $name) { mutedPosts mutedStories stories { id } } }"


async def feed_ids(api: Api, token: str, order: str = "RECENT") -> list[str]:
    data = await api.gql(FEED, {"order": order}, token)
    return [edge["node"]["id"] for edge in data["feed"]["edges"]]


async def tray_owners(api: Api, token: str) -> list[str]:
    data = await api.gql(TRAY, {}, token)
    return [edge["node"]["owner"]["username"] for edge in data["storiesTray"]["edges"]]


async def test_muted_posts_leave_the_feed_in_both_orders_and_come_back(api: Api) -> None:
    viewer, loud, quiet = await api.sign_up(), await api.sign_up(), await api.sign_up()
    for other in (loud, quiet):
        await api.gql(FOLLOW, {"id": other.id}, viewer.token)
    loud_post, quiet_post = await create_post(api, loud), await create_post(api, quiet)
    await settle(api)
    assert set(await feed_ids(api, viewer.token)) == {loud_post, quiet_post}

    muted = await api.gql(MUTE, {"id": loud.id, "posts": True, "stories": False}, viewer.token)
    assert muted["setMuted"] == {"mutedPosts": True, "mutedStories": False, "viewerFollowStatus": "FOLLOWING"}
    await settle(api)
    assert await feed_ids(api, viewer.token) == [quiet_post]
    assert await feed_ids(api, viewer.token, "RANKED") == [quiet_post]
    # The muted account is told nothing: from its side nothing changed.
    seen_by_loud = await api.gql(PROFILE, {"name": viewer.username}, loud.token)
    assert (seen_by_loud["user"]["mutedPosts"], seen_by_loud["user"]["mutedStories"]) == (False, False)
    # The post itself stays reachable on the profile; only the feed filters it.
    assert (await api.gql(PROFILE, {"name": loud.username}, viewer.token))["user"]["mutedPosts"] is True

    await api.gql(MUTE, {"id": loud.id, "posts": False, "stories": False}, viewer.token)
    await settle(api)
    assert set(await feed_ids(api, viewer.token)) == {loud_post, quiet_post}


async def test_muted_stories_leave_the_tray_but_not_the_profile(api: Api) -> None:
    viewer, teller = await api.sign_up(), await api.sign_up()
    await api.gql(FOLLOW, {"id": teller.id}, viewer.token)
    story = await create_story(api, teller)
    assert await tray_owners(api, viewer.token) == [teller.username]

    await api.gql(MUTE, {"id": teller.id, "posts": False, "stories": True}, viewer.token)
    assert await tray_owners(api, viewer.token) == []
    profile = await api.gql(PROFILE, {"name": teller.username}, viewer.token)
    assert profile["user"] == {"mutedPosts": False, "mutedStories": True, "stories": [{"id": story}]}

    await api.gql(MUTE, {"id": teller.id, "posts": False, "stories": False}, viewer.token)
    assert await tray_owners(api, viewer.token) == [teller.username]


async def test_muting_oneself_or_an_unknown_account_is_refused(api: Api) -> None:
    viewer = await api.sign_up()
    own = await api.gql_error(MUTE, {"id": viewer.id, "posts": True, "stories": True}, viewer.token)
    assert own.codes == ["BAD_USER_INPUT"]
    gone = await api.gql_error(MUTE, {"id": "VXNlcjox", "posts": True, "stories": True}, viewer.token)
    assert gone.codes == ["NOT_FOUND"]


async def test_the_hybrid_feed_drops_muted_pushed_and_pulled_authors(hybrid: Api) -> None:  # noqa: F811
    """FANOUT_THRESHOLD is 2 here: `small` (one follower) is pushed, `star` (three) is pulled."""
    viewer, small, star, fan1, fan2 = [await hybrid.sign_up() for _ in range(5)]
    for follower in (viewer, fan1, fan2):
        await hybrid.gql(FOLLOW, {"id": star.id}, follower.token)
    await hybrid.gql(FOLLOW, {"id": small.id}, viewer.token)
    await feed_ids(hybrid, viewer.token)  # builds the viewer's set
    small_post, star_post = await create_post(hybrid, small), await create_post(hybrid, star)
    await settle(hybrid)
    assert await cached_post_ids(hybrid, user_id(viewer)) == [db_id(small_post)]
    assert await feed_ids(hybrid, viewer.token) == [star_post, small_post]

    for author in (small, star):
        await hybrid.gql(MUTE, {"id": author.id, "posts": True, "stories": False}, viewer.token)
    await settle(hybrid)
    assert await cached_post_ids(hybrid, user_id(viewer)) == []  # the pushed set lost them at once
    for order in ("RECENT", "RANKED"):
        assert await feed_ids(hybrid, viewer.token, order) == []
    # A post pushed after the mute is filtered on read even though it lands in the set.
    await create_post(hybrid, small)
    await settle(hybrid)
    assert await feed_ids(hybrid, viewer.token) == []

    await hybrid.gql(MUTE, {"id": small.id, "posts": False, "stories": False}, viewer.token)
    await settle(hybrid)
    assert len(await feed_ids(hybrid, viewer.token)) == 2  # both of small's posts are back
    assert len(await cached_post_ids(hybrid, user_id(viewer))) == 2
