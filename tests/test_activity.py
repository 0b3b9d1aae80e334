"""The activity inbox over GraphQL: what each action adds, grouping of likes, unseen counts, and
what vanishes at read time (blocks both ways, undone likes and follows, deleted or expired things)."""

from __future__ import annotations

from tests.engagement import (
    ACTIVITY,
    APPROVE,
    BLOCK,
    DELETE_COMMENT,
    DELETE_POST,
    FOLLOW,
    GO_PRIVATE,
    LIKE,
    MARK_SEEN,
    UNFOLLOW,
    UNLIKE,
    activity_of,
    comment,
    react,
    reply,
    summary,
)
from tests.harness import Api
from tests.posting import create_post
from tests.story_helpers import create_story

NODE = "query($id: ID!) { node(id: $id) { ... on Activity { id kind actorCount } } }"


async def test_each_action_adds_an_item_newest_first(api: Api) -> None:
    alice, bob, dave = await api.sign_up("alice"), await api.sign_up("bob"), await api.sign_up("dave")
    await api.gql(FOLLOW, {"id": alice.id}, bob.token)
    post = await create_post(api, alice)
    await api.gql(LIKE, {"id": post}, bob.token)
    said = await comment(api, bob, post, "Lovely")
    story = await create_story(api, alice, "PUBLIC")
    await react(api, bob, story, "😍")
    await reply(api, bob, story, "Where is this?")
    await api.gql(LIKE, {"id": post}, alice.token)  # one's own doing is not news
    await comment(api, alice, post, "thanks")
    await api.gql(GO_PRIVATE, token=alice.token)
    await api.gql(FOLLOW, {"id": alice.id}, dave.token)

    items = await activity_of(api, alice)
    assert summary(items) == [
        ("FOLLOW_REQUESTED", ["dave"], 1),
        ("STORY_REPLIED", ["bob"], 1),
        ("STORY_REACTED", ["bob"], 1),
        ("POST_COMMENTED", ["bob"], 1),
        ("POST_LIKED", ["bob"], 1),
        ("FOLLOWED", ["bob"], 1),
    ]
    replied, reacted, commented, liked = items[1:5]
    assert (replied["message"]["body"], replied["story"]["id"]) == ("Where is this?", story)
    assert (reacted["emoji"], reacted["story"]["id"]) == ("😍", story)
    assert commented["comment"] == {"id": said, "body": "Lovely"} and commented["post"]["id"] == post
    assert liked["post"]["id"] == post and liked["comment"] is None
    assert [item["seq"] for item in items] == sorted((item["seq"] for item in items), reverse=True)

    await api.gql(APPROVE, {"id": dave.id}, alice.token)
    assert summary(await activity_of(api, dave)) == [("FOLLOW_ACCEPTED", ["alice"], 1)]
    # The request was answered: it leaves alice's inbox.
    assert (await activity_of(api, alice))[0]["kind"] == "STORY_REPLIED"


async def test_likes_of_a_post_are_grouped_and_the_item_moves_up(api: Api) -> None:
    owner = await api.sign_up("owner")
    likers = [await api.sign_up(f"liker{n}") for n in range(6)]
    post, other = await create_post(api, owner), await create_post(api, owner)
    for liker in likers[:5]:
        await api.gql(LIKE, {"id": post}, liker.token)
    await comment(api, likers[0], other, "first!")
    items = await activity_of(api, owner)
    assert summary(items) == [
        ("POST_COMMENTED", ["liker0"], 1),
        ("POST_LIKED", ["liker4", "liker3", "liker2"], 5),
    ]
    grouped = items[1]

    await api.gql(LIKE, {"id": post}, likers[5].token)  # a new actor: the item regroups and moves up
    items = await activity_of(api, owner)
    assert summary(items)[0] == ("POST_LIKED", ["liker5", "liker4", "liker3"], 6)
    assert items[0]["id"] == grouped["id"] and items[0]["seq"] > items[1]["seq"] > grouped["seq"]

    await api.gql(UNLIKE, {"id": post}, likers[5].token)  # an unliked like leaves the group
    assert summary(await activity_of(api, owner))[0] == ("POST_LIKED", ["liker4", "liker3", "liker2"], 5)
    await api.gql(LIKE, {"id": post}, likers[5].token)
    await api.gql(LIKE, {"id": post}, likers[5].token)  # idempotent: counted once
    assert summary(await activity_of(api, owner))[0] == ("POST_LIKED", ["liker5", "liker4", "liker3"], 6)
    for liker in likers:
        await api.gql(UNLIKE, {"id": post}, liker.token)
    assert summary(await activity_of(api, owner)) == [("POST_COMMENTED", ["liker0"], 1)]


async def test_unseen_count_and_marking_seen(api: Api) -> None:
    owner, fan = await api.sign_up(), await api.sign_up()
    post = await create_post(api, owner)
    empty = await api.gql(ACTIVITY, {}, owner.token)
    assert empty["activityUnseenCount"] == 0 and empty["activity"]["edges"] == []
    assert (await api.gql(MARK_SEEN, token=owner.token))["markActivitySeen"] == 0
    await api.gql(LIKE, {"id": post}, fan.token)
    await comment(api, fan, post)
    data = await api.gql(ACTIVITY, {}, owner.token)
    assert data["activityUnseenCount"] == 2
    assert [edge["node"]["isUnseen"] for edge in data["activity"]["edges"]] == [True, True]

    assert (await api.gql(MARK_SEEN, token=owner.token))["markActivitySeen"] == 0
    data = await api.gql(ACTIVITY, {}, owner.token)
    assert data["activityUnseenCount"] == 0
    assert [edge["node"]["isUnseen"] for edge in data["activity"]["edges"]] == [False, False]
    await api.gql(FOLLOW, {"id": owner.id}, fan.token)
    data = await api.gql(ACTIVITY, {}, owner.token)
    assert data["activityUnseenCount"] == 1
    assert [edge["node"]["isUnseen"] for edge in data["activity"]["edges"]] == [True, False, False]
    # An unseen item that vanishes is not counted either.
    await api.gql(UNFOLLOW, {"id": owner.id}, fan.token)
    assert (await api.gql(ACTIVITY, {}, owner.token))["activityUnseenCount"] == 0


async def test_visibility_table_for_activity(api: Api) -> None:
    owner = await api.sign_up("owner")
    private = await api.sign_up("private")
    stranger, follower, outsider = [await api.sign_up(n) for n in ("stranger", "follower", "outsider")]
    blocker, blocked = await api.sign_up("blocker"), await api.sign_up("blocked")
    await api.gql(GO_PRIVATE, token=private.token)
    await api.gql(FOLLOW, {"id": private.id}, follower.token)
    await api.gql(APPROVE, {"id": follower.id}, private.token)
    public_post, private_post = await create_post(api, owner), await create_post(api, private)
    actors = (stranger, follower, outsider, blocker, blocked)
    for actor in actors:
        await api.gql(LIKE, {"id": public_post}, actor.token)
    for actor in actors:
        await comment(api, actor, public_post, f"from {actor.username}")
        like = await api.post(LIKE, {"id": private_post}, actor.token)
        expected = None if actor is follower else "NOT_FOUND"
        assert (like.get("errors") or [{}])[0].get("extensions", {}).get("code") == expected, actor.username
    await api.gql(FOLLOW, {"id": private.id}, outsider.token)  # a private account's non-follower asks
    await api.gql(BLOCK, {"id": owner.id}, blocker.token)  # the actor blocks the owner
    await api.gql(BLOCK, {"id": blocked.id}, owner.token)  # the owner blocks the actor

    items = await activity_of(api, owner)
    commenters = sorted(actor["username"] for item in items[:-1] for actor in item["actors"])
    assert commenters == ["follower", "outsider", "stranger"]
    assert summary(items)[-1] == ("POST_LIKED", ["outsider", "follower", "stranger"], 3)
    assert (await api.gql(ACTIVITY, {}, owner.token))["activityUnseenCount"] == len(items) == 4
    assert summary(await activity_of(api, private)) == [
        ("FOLLOW_REQUESTED", ["outsider"], 1),
        ("POST_LIKED", ["follower"], 1),
    ]  # the follower's own request left when it was approved
    for user in (blocker, blocked, stranger):  # nobody else's inbox shows any of it
        assert await activity_of(api, user) == []


async def test_what_is_deleted_undone_or_expired_vanishes(api: Api) -> None:
    owner, fan = await api.sign_up(), await api.sign_up()
    await api.gql(FOLLOW, {"id": owner.id}, fan.token)
    kept, doomed = await create_post(api, owner), await create_post(api, owner)
    said = await comment(api, fan, kept, "soon deleted")
    await api.gql(LIKE, {"id": doomed}, fan.token)
    await comment(api, fan, doomed, "on a doomed post")
    story = await create_story(api, owner, "PUBLIC")
    await react(api, fan, story)
    await reply(api, fan, story, "nice")
    assert len(await activity_of(api, owner)) == 6

    await api.gql(DELETE_COMMENT, {"id": said}, fan.token)
    await api.gql(DELETE_POST, {"id": doomed}, owner.token)
    await api.gql(UNFOLLOW, {"id": owner.id}, fan.token)
    api.clock.advance(24 * 3600)  # the story expires: the reaction goes, the reply stays without it
    items = await activity_of(api, owner)
    assert summary(items) == [("STORY_REPLIED", [fan.username], 1)]
    assert items[0]["story"] is None and items[0]["message"]["body"] == "nice"
    assert (await api.gql(ACTIVITY, {}, owner.token))["activityUnseenCount"] == 1


async def test_an_item_is_a_node_for_its_owner_only(api: Api) -> None:
    owner, fan = await api.sign_up(), await api.sign_up()
    await api.gql(FOLLOW, {"id": owner.id}, fan.token)
    (item,) = await activity_of(api, owner)
    assert (await api.gql(NODE, {"id": item["id"]}, owner.token))["node"] == {
        "id": item["id"],
        "kind": "FOLLOWED",
        "actorCount": 1,
    }
    assert (await api.gql(NODE, {"id": item["id"]}, fan.token))["node"] is None
    assert (await api.gql(NODE, {"id": item["id"]}))["node"] is None
    await api.gql(BLOCK, {"id": fan.id}, owner.token)
    assert (await api.gql(NODE, {"id": item["id"]}, owner.token))["node"] is None


async def test_pages_follow_the_seq_cursor_and_arguments_are_checked(api: Api) -> None:
    owner = await api.sign_up()
    fans = [await api.sign_up() for _ in range(5)]
    for fan in fans:
        await api.gql(FOLLOW, {"id": owner.id}, fan.token)
    seen, after = [], None
    while True:
        data = (await api.gql(ACTIVITY, {"first": 2, "after": after}, owner.token))["activity"]
        seen += [edge["node"]["actors"][0]["username"] for edge in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
        await api.gql(UNFOLLOW, {"id": owner.id}, fans[-1].token)  # moves nothing onto later pages
        await api.gql(FOLLOW, {"id": owner.id}, fans[-1].token)
    assert seen == [fan.username for fan in reversed(fans)]
    for variables in ({"first": 0}, {"first": 101}, {"after": "bm9wZQ"}):
        assert (await api.gql_error(ACTIVITY, variables, owner.token)).codes == ["BAD_USER_INPUT"]
    assert (await api.gql_error(ACTIVITY, {})).codes == ["UNAUTHENTICATED"]
