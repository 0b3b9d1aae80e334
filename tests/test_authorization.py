"""The authorization walk: every object reachable through node(id:) and every field holding private
data, asked for by a stranger, by a blocked user and without a token: nothing leaks (null or
NOT_FOUND), while the owner still sees it."""

from __future__ import annotations

from dataclasses import dataclass

from tests.harness import Api, TestUser
from tests.story_helpers import add_edges, create_story, db_id

NODE = "query($id: ID!) { node(id: $id) { id __typename } }"
START = "mutation($ids: [ID!]!) { startConversation(input: {memberIds: $ids}) { id } }"
SEND = """
mutation($cid: ID!, $media: ID) {
  sendMessage(input: {conversationId: $cid, body: "secret", clientId: "m1", mediaId: $media}) { id }
}
"""
PRIVATE_FIELDS = {
    "conversations": "{ conversations(first: 5) { edges { node { id } } } }",
    "followRequests": "{ followRequests(first: 5) { edges { node { id } } } }",
    "viewer": "{ viewer { id } }",
}
VIEWERS = (
    "query($id: ID!) { node(id: $id) { ... on Story { viewCount viewers(first: 5) { edges { cursor } } } } }"
)
MESSAGES = (
    "query($id: ID!) { node(id: $id) { ... on Conversation { messages(first: 5) { edges { cursor } } } } }"
)
HIDDEN_STORIES = "query($u: String!) { user(username: $u) { hasActiveStories stories { id } } }"
EXPECTED = ["NOT_FOUND", "UNAUTHENTICATED"]


@dataclass
class World:
    owner: TestUser
    friend: TestUser
    stranger: TestUser
    blocked: TestUser
    ids: dict[str, str]


async def build_world(api: Api) -> World:
    owner, friend, stranger, blocked = [await api.sign_up() for _ in range(4)]
    await api.gql("mutation { updateProfile(input: {isPrivate: true}) { id } }", token=owner.token)
    await add_edges(
        api,
        [
            ("follow", db_id(friend.id), db_id(owner.id)),
            ("pending", db_id(stranger.id), db_id(owner.id)),
            ("block", db_id(owner.id), db_id(blocked.id)),
        ],
    )
    media = await api.upload(owner, "MESSAGE")
    story = await create_story(api, owner, "FOLLOWERS")
    await api.gql(
        "mutation($u: ID!) { setStoriesHidden(userId: $u, hidden: true) { id } }",
        {"u": stranger.id},
        owner.token,
    )
    conversation = (await api.gql(START, {"ids": [friend.id]}, owner.token))["startConversation"]["id"]
    message = (await api.gql(SEND, {"cid": conversation, "media": media}, owner.token))["sendMessage"]["id"]
    await api.gql("mutation($s: [ID!]!) { markStoriesSeen(ids: $s) { id } }", {"s": [story]}, friend.token)
    ids = {"User": owner.id, "Media": media, "Story": story, "Conversation": conversation, "Message": message}
    return World(owner, friend, stranger, blocked, ids)


async def test_nothing_private_leaks_through_node(api: Api) -> None:
    world = await build_world(api)
    for kind, object_id in world.ids.items():
        owner_view = await api.gql(NODE, {"id": object_id}, world.owner.token)
        assert owner_view["node"] == {"id": object_id, "__typename": kind}
        outsiders: dict[str, str | None] = {"blocked": world.blocked.token}
        if (
            kind != "User"
        ):  # a profile (even a private one) is findable by all but the blocked; its content is not
            outsiders |= {"stranger": world.stranger.token, "anonymous": None}
        for who, token in outsiders.items():
            body = await api.post(NODE, {"id": object_id}, token)
            leaked = (body.get("data") or {}).get("node")
            codes = [e["extensions"]["code"] for e in body.get("errors", [])]
            assert leaked is None and set(codes) <= set(EXPECTED), (kind, who, body)


async def test_private_fields_are_empty_or_refused_for_others(api: Api) -> None:
    world = await build_world(api)
    owner_requests = await api.gql(PRIVATE_FIELDS["followRequests"], token=world.owner.token)
    assert len(owner_requests["followRequests"]["edges"]) == 1
    for who, token in (("stranger", world.stranger.token), ("blocked", world.blocked.token)):
        for field, query in PRIVATE_FIELDS.items():
            data = await api.gql(query, token=token)
            if field == "viewer":
                assert data["viewer"]["id"] != world.owner.id
            else:
                assert data[field]["edges"] == [], (who, field)
        story_view = await api.post(VIEWERS, {"id": world.ids["Story"]}, token)
        assert (story_view.get("data") or {}).get("node") is None, (who, story_view)
        messages = await api.post(MESSAGES, {"id": world.ids["Conversation"]}, token)
        assert (messages.get("data") or {}).get("node") is None, (who, messages)
    for field, query in PRIVATE_FIELDS.items():
        body = await api.post(query)
        if field == "viewer":
            assert body["data"]["viewer"] is None
        else:
            assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], field
    friend_view = await api.gql(VIEWERS, {"id": world.ids["Story"]}, world.friend.token)
    assert friend_view["node"] == {"viewCount": None, "viewers": None}, "viewers are the author's alone"


async def test_hidden_stories_and_blocked_profiles_stay_hidden(api: Api) -> None:
    world = await build_world(api)
    # The stranger was hidden from; even after being accepted as a follower they see no story.
    await api.gql(
        "mutation($u: ID!) { approveFollowRequest(userId: $u) { id } }",
        {"u": world.stranger.id},
        world.owner.token,
    )
    hidden = await api.gql(HIDDEN_STORIES, {"u": world.owner.username}, world.stranger.token)
    assert hidden["user"] == {"hasActiveStories": False, "stories": []}
    friend = await api.gql(HIDDEN_STORIES, {"u": world.owner.username}, world.friend.token)
    assert friend["user"]["hasActiveStories"] is True
    blocked = await api.gql(HIDDEN_STORIES, {"u": world.owner.username}, world.blocked.token)
    assert blocked["user"] is None
