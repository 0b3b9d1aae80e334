"""The social graph: follows and requests, blocks, lists and flags, follower lists and their pages."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import func, select

from core.ids import to_global_id
from models import Follow
from tests.harness import Api, TestUser

USER_FIELDS = """
fragment UserFields on User {
  id username viewerFollowStatus followsViewer followerCount followingCount
  isBlocked isCloseFriend isContact storiesHidden
}
"""
FOLLOW = "mutation Follow($id: ID!) { follow(userId: $id) { ...UserFields } }" + USER_FIELDS
UNFOLLOW = "mutation Unfollow($id: ID!) { unfollow(userId: $id) { ...UserFields } }" + USER_FIELDS
APPROVE = "mutation Approve($id: ID!) { approveFollowRequest(userId: $id) { ...UserFields } }" + USER_FIELDS
DECLINE = "mutation Decline($id: ID!) { declineFollowRequest(userId: $id) { ...UserFields } }" + USER_FIELDS
BLOCK = "mutation Block($id: ID!) { block(userId: $id) { ...UserFields } }" + USER_FIELDS
UNBLOCK = "mutation Unblock($id: ID!) { unblock(userId: $id) { ...UserFields } }" + USER_FIELDS
SET_CLOSE_FRIEND = (
    "mutation SetCloseFriend($id: ID!, $on: Boolean!) {"
    " setCloseFriend(userId: $id, isCloseFriend: $on) { ...UserFields } }" + USER_FIELDS
)
SET_CONTACT = (
    "mutation SetContact($id: ID!, $on: Boolean!) {"
    " setContact(userId: $id, isContact: $on) { ...UserFields } }" + USER_FIELDS
)
SET_STORIES_HIDDEN = (
    "mutation SetStoriesHidden($id: ID!, $on: Boolean!) {"
    " setStoriesHidden(userId: $id, hidden: $on) { ...UserFields } }" + USER_FIELDS
)
USER = "query User($username: String!) { user(username: $username) { ...UserFields } }" + USER_FIELDS
NODE = "query Node($id: ID!) { node(id: $id) { id ... on User { username } } }"
UPDATE_PROFILE = "mutation Private($on: Boolean!) { updateProfile(input: {isPrivate: $on}) { isPrivate } }"
CONNECTION = "edges { cursor node { username } } pageInfo { hasNextPage hasPreviousPage endCursor }"
FOLLOWERS = (
    "query Followers($username: String!, $first: Int, $after: String) {"
    f" user(username: $username) {{ followers(first: $first, after: $after) {{ {CONNECTION} }} }} }}"
)
FOLLOWING = (
    "query Following($username: String!, $first: Int, $after: String) {"
    f" user(username: $username) {{ following(first: $first, after: $after) {{ {CONNECTION} }} }} }}"
)
FOLLOW_REQUESTS = (
    "query Requests($first: Int, $after: String) {"
    f" followRequests(first: $first, after: $after) {{ {CONNECTION} }} }}"
)

ID_MUTATIONS = {"follow": FOLLOW, "unfollow": UNFOLLOW, "approveFollowRequest": APPROVE}
ID_MUTATIONS |= {"declineFollowRequest": DECLINE, "block": BLOCK, "unblock": UNBLOCK}
FLAG_MUTATIONS = {
    "setCloseFriend": (SET_CLOSE_FRIEND, "isCloseFriend"),
    "setContact": (SET_CONTACT, "isContact"),
    "setStoriesHidden": (SET_STORIES_HIDDEN, "storiesHidden"),
}


async def act(api: Api, query: str, actor: TestUser, target: TestUser | str, **variables: Any) -> Any:
    """Run a graph mutation and return the User it gives back."""
    user_id = target if isinstance(target, str) else target.id
    data = await api.gql(query, {"id": user_id, **variables}, token=actor.token)
    return next(iter(data.values()))


async def look_up(api: Api, viewer: TestUser | None, username: str) -> Any:
    return (await api.gql(USER, {"username": username}, token=viewer.token if viewer else None))["user"]


async def usernames(api: Api, query: str, viewer: TestUser | None, **variables: Any) -> list[str]:
    data = await api.gql(query, variables, token=viewer.token if viewer else None)
    connection = data["followRequests"] if "followRequests" in data else next(iter(data["user"].values()))
    return [edge["node"]["username"] for edge in connection["edges"]]


async def private_user(api: Api, username: str) -> TestUser:
    user = await api.sign_up(username)
    await api.gql(UPDATE_PROFILE, {"on": True}, token=user.token)
    return user


async def follow_rows(api: Api) -> int:
    async with api.services.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Follow)) or 0)


async def test_following_a_public_account_is_immediate(api: Api) -> None:
    alice, bob = await api.sign_up("alice"), await api.sign_up("bob")
    followed = await act(api, FOLLOW, alice, bob)
    assert followed["viewerFollowStatus"] == "FOLLOWING"
    assert followed["followerCount"] == 1
    assert (await look_up(api, alice, "alice"))["followingCount"] == 1
    assert (await look_up(api, bob, "alice"))["followsViewer"] is True
    assert (await look_up(api, alice, "bob"))["followsViewer"] is False
    assert await usernames(api, FOLLOW_REQUESTS, bob) == []


async def test_following_twice_keeps_one_follow(api: Api) -> None:
    alice, bob = await api.sign_up("alice"), await api.sign_up("bob")
    await act(api, FOLLOW, alice, bob)
    again = await act(api, FOLLOW, alice, bob)
    assert again["viewerFollowStatus"] == "FOLLOWING"
    assert again["followerCount"] == 1
    assert await follow_rows(api) == 1


async def test_a_private_account_approves_follow_requests(api: Api) -> None:
    alice, bob = await api.sign_up("alice"), await private_user(api, "bob")
    carol = await api.sign_up("carol")
    requested = await act(api, FOLLOW, alice, bob)
    assert requested["viewerFollowStatus"] == "REQUESTED"
    assert requested["followerCount"] == 0
    assert (await act(api, FOLLOW, carol, bob))["viewerFollowStatus"] == "REQUESTED"
    assert (await act(api, FOLLOW, alice, bob))["viewerFollowStatus"] == "REQUESTED"
    assert await usernames(api, FOLLOW_REQUESTS, bob) == ["carol", "alice"]
    assert (await look_up(api, bob, "alice"))["followsViewer"] is False

    approved = await act(api, APPROVE, bob, alice)
    assert approved["username"] == "alice"
    assert approved["followsViewer"] is True
    assert approved["followingCount"] == 1
    assert (await look_up(api, alice, "bob"))["viewerFollowStatus"] == "FOLLOWING"
    assert (await look_up(api, None, "bob"))["followerCount"] == 1
    assert await usernames(api, FOLLOW_REQUESTS, bob) == ["carol"]

    declined = await act(api, DECLINE, bob, carol)
    assert declined["followsViewer"] is False
    assert (await look_up(api, carol, "bob"))["viewerFollowStatus"] == "NONE"
    assert await usernames(api, FOLLOW_REQUESTS, bob) == []
    assert (await look_up(api, None, "bob"))["followerCount"] == 1

    # Declining does not end an accepted follow; approving nothing is NOT_FOUND.
    assert (await act(api, DECLINE, bob, alice))["followsViewer"] is True
    error = await api.gql_error(APPROVE, {"id": carol.id}, token=bob.token)
    assert error.codes == ["NOT_FOUND"]


async def test_follow_requests_need_a_viewer(api: Api) -> None:
    assert (await api.gql_error(FOLLOW_REQUESTS)).codes == ["UNAUTHENTICATED"]
    bob = await api.sign_up("bob")
    assert (await api.gql_error(FOLLOW, {"id": bob.id})).codes == ["UNAUTHENTICATED"]


async def test_unfollow(api: Api) -> None:
    alice, bob = await api.sign_up("alice"), await api.sign_up("bob")
    await act(api, FOLLOW, alice, bob)
    unfollowed = await act(api, UNFOLLOW, alice, bob)
    assert unfollowed["viewerFollowStatus"] == "NONE"
    assert unfollowed["followerCount"] == 0
    assert (await act(api, UNFOLLOW, alice, bob))["viewerFollowStatus"] == "NONE"

    # Unfollowing a private account withdraws the request.
    carol = await private_user(api, "carol")
    await act(api, FOLLOW, alice, carol)
    assert (await act(api, UNFOLLOW, alice, carol))["viewerFollowStatus"] == "NONE"
    assert await usernames(api, FOLLOW_REQUESTS, carol) == []


async def test_acting_on_yourself_is_bad_input(api: Api) -> None:
    alice = await api.sign_up("alice")
    for name, query in ID_MUTATIONS.items():
        error = await api.gql_error(query, {"id": alice.id}, token=alice.token)
        assert error.codes == ["BAD_USER_INPUT"], name
    for name, (query, _) in FLAG_MUTATIONS.items():
        error = await api.gql_error(query, {"id": alice.id, "on": True}, token=alice.token)
        assert error.codes == ["BAD_USER_INPUT"], name
    assert await follow_rows(api) == 0


async def test_unknown_or_malformed_user_ids_are_not_found(api: Api) -> None:
    alice = await api.sign_up("alice")
    too_big = to_global_id("User", 10**19 - 1)  # 19 digits, past the 64-bit ids
    for user_id in (to_global_id("User", 42), too_big, "not-an-id", "", to_global_id("Post", 1), "VXNlcjp4"):
        for name, query in ID_MUTATIONS.items():
            error = await api.gql_error(query, {"id": user_id}, token=alice.token)
            assert error.codes == ["NOT_FOUND"], (name, user_id)
        for name, (query, _) in FLAG_MUTATIONS.items():
            error = await api.gql_error(query, {"id": user_id, "on": True}, token=alice.token)
            assert error.codes == ["NOT_FOUND"], (name, user_id)
        assert (await api.gql(NODE, {"id": user_id}, token=alice.token)) == {"node": None}


async def test_block_ends_follows_and_hides_the_blocker(api: Api) -> None:
    alice, bob = await api.sign_up("alice"), await api.sign_up("bob")
    await act(api, FOLLOW, alice, bob)
    await act(api, FOLLOW, bob, alice)
    await act(api, SET_CLOSE_FRIEND, bob, alice, on=True)

    blocked = await act(api, BLOCK, bob, alice)
    assert blocked["isBlocked"] is True
    assert blocked["viewerFollowStatus"] == "NONE"
    assert blocked["followsViewer"] is False
    assert blocked["followerCount"] == 0
    assert blocked["followingCount"] == 0
    assert (await act(api, BLOCK, bob, alice))["isBlocked"] is True
    assert await follow_rows(api) == 0

    # The blocked user cannot find the blocker at all.
    assert await look_up(api, alice, "bob") is None
    assert (await api.gql(NODE, {"id": bob.id}, token=alice.token)) == {"node": None}
    assert (await api.gql_error(FOLLOW, {"id": bob.id}, token=alice.token)).codes == ["NOT_FOUND"]
    assert (await api.gql_error(BLOCK, {"id": bob.id}, token=alice.token)).codes == ["NOT_FOUND"]
    assert await follow_rows(api) == 0
    # Anyone else still can.
    assert (await look_up(api, None, "bob"))["username"] == "bob"

    # The blocker still sees the blocked user, cannot follow them while blocking, and can unblock.
    assert (await look_up(api, bob, "alice"))["isBlocked"] is True
    node = await api.gql(NODE, {"id": alice.id}, token=bob.token)
    assert node == {"node": {"id": alice.id, "username": "alice"}}
    assert (await api.gql_error(FOLLOW, {"id": alice.id}, token=bob.token)).codes == ["BAD_USER_INPUT"]
    assert (await act(api, UNBLOCK, bob, alice))["isBlocked"] is False
    assert (await act(api, UNBLOCK, bob, alice))["isBlocked"] is False
    assert (await look_up(api, alice, "bob"))["viewerFollowStatus"] == "NONE"
    assert (await act(api, FOLLOW, alice, bob))["viewerFollowStatus"] == "FOLLOWING"


async def test_flags_round_trip_and_are_idempotent(api: Api) -> None:
    alice, bob = await api.sign_up("alice"), await api.sign_up("bob")
    for name, (query, field) in FLAG_MUTATIONS.items():
        for on in (True, True, False, False, True):
            assert (await act(api, query, alice, bob, on=on))[field] is on, (name, on)
            assert (await look_up(api, alice, "bob"))[field] is on, (name, on)
        # The flag is the viewer's own: it says nothing about the other direction.
        assert (await look_up(api, bob, "alice"))[field] is False, name
    flags = await look_up(api, alice, "bob")
    assert (flags["isCloseFriend"], flags["isContact"], flags["storiesHidden"]) == (True, True, True)
    assert (flags["isBlocked"], flags["viewerFollowStatus"]) == (False, "NONE")


async def test_lists_of_a_private_account_need_an_accepted_follow(api: Api) -> None:
    alice, bob = await api.sign_up("alice"), await private_user(api, "bob")
    carol, dave = await api.sign_up("carol"), await api.sign_up("dave")
    await act(api, FOLLOW, carol, bob)
    await act(api, APPROVE, bob, carol)
    await act(api, FOLLOW, bob, dave)

    for viewer in (None, alice):
        assert await usernames(api, FOLLOWERS, viewer, username="bob") == []
        assert await usernames(api, FOLLOWING, viewer, username="bob") == []
    await act(api, FOLLOW, alice, bob)
    assert await usernames(api, FOLLOWERS, alice, username="bob") == []

    await act(api, APPROVE, bob, alice)
    assert await usernames(api, FOLLOWERS, alice, username="bob") == ["alice", "carol"]
    assert await usernames(api, FOLLOWING, alice, username="bob") == ["dave"]
    assert await usernames(api, FOLLOWERS, bob, username="bob") == ["alice", "carol"]
    assert await usernames(api, FOLLOWERS, None, username="dave") == ["bob"]


async def test_a_blocker_is_left_out_of_lists_the_blocked_user_reads(api: Api) -> None:
    alice, bob, carol = await api.sign_up("alice"), await api.sign_up("bob"), await api.sign_up("carol")
    await act(api, FOLLOW, alice, carol)
    await act(api, FOLLOW, bob, carol)
    await act(api, FOLLOW, carol, bob)
    await act(api, BLOCK, bob, alice)

    assert await usernames(api, FOLLOWERS, alice, username="carol") == ["alice"]
    assert await usernames(api, FOLLOWING, alice, username="carol") == []
    assert await usernames(api, FOLLOWERS, carol, username="carol") == ["bob", "alice"]
    assert await usernames(api, FOLLOWERS, bob, username="carol") == ["bob", "alice"]


async def walk(api: Api, query: str, viewer: TestUser, username: str, on_page: Any = None) -> list[str]:
    """Every item of a list, two at a time; `on_page` runs between pages."""
    seen: list[str] = []
    after: str | None = None
    while True:
        data = await api.gql(query, {"username": username, "first": 2, "after": after}, token=viewer.token)
        connection = next(iter(data["user"].values()))
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert 1 <= len(connection["edges"]) <= 2, connection
        assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
        seen += [edge["node"]["username"] for edge in connection["edges"]]
        if on_page is not None:
            await on_page()
        if not connection["pageInfo"]["hasNextPage"]:
            return seen
        after = connection["pageInfo"]["endCursor"]


async def test_pages_of_followers_and_following_are_stable(api: Api) -> None:
    star = await api.sign_up("star")
    fans = [await api.sign_up(f"fan{i}") for i in range(5)]
    for fan in fans:
        await act(api, FOLLOW, fan, star)
        await act(api, FOLLOW, star, fan)
    newest_first = [fan.username for fan in reversed(fans)]
    assert await walk(api, FOLLOWERS, star, "star") == newest_first
    assert await walk(api, FOLLOWING, star, "star") == newest_first

    late_fan, late_idol = await api.sign_up("late_fan"), await api.sign_up("late_idol")

    async def late_fan_follows() -> None:
        await act(api, FOLLOW, late_fan, star)

    async def star_follows_late_idol() -> None:
        await act(api, FOLLOW, star, late_idol)

    # A follow that arrives while a client pages goes to the top: later pages neither repeat nor skip.
    assert await walk(api, FOLLOWERS, star, "star", on_page=late_fan_follows) == newest_first
    assert await walk(api, FOLLOWING, star, "star", on_page=star_follows_late_idol) == newest_first
    assert await walk(api, FOLLOWERS, star, "star") == ["late_fan", *newest_first]
    assert await walk(api, FOLLOWING, star, "star") == ["late_idol", *newest_first]


async def test_page_size_and_cursor_are_checked(api: Api) -> None:
    alice = await api.sign_up("alice")
    bad_cursors = ["garbage", "!!!", "a" * 300] + [
        base64.urlsafe_b64encode(key).decode() for key in (b"k:abc", b"k:-1", b"k:" + b"9" * 30)
    ]
    for query in (FOLLOWERS, FOLLOWING, FOLLOW_REQUESTS):
        for first in (0, -1, 101):
            error = await api.gql_error(query, {"username": "alice", "first": first}, token=alice.token)
            assert error.codes == ["BAD_USER_INPUT"], (query, first)
        for cursor in bad_cursors:
            error = await api.gql_error(query, {"username": "alice", "after": cursor}, token=alice.token)
            assert error.codes == ["BAD_USER_INPUT"], (query, cursor)
        assert await usernames(api, query, alice, username="alice", first=100) == []
