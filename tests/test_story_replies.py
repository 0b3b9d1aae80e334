"""Replies to stories land in the 1:1 conversation; the author sees reactions and replies live."""

from __future__ import annotations

import pytest

from tests.harness import Api, TestUser
from tests.story_helpers import add_edges, create_story, db_id
from tests.ws_client import graphql_socket

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

REPLY = """
mutation($story: ID!, $body: String!, $client: String!) {
  replyToStory(storyId: $story, body: $body, clientId: $client) {
    id seq body conversation { id isGroup } replyToStory { id }
  }
}
"""
REACT = 'mutation($story: ID!) { reactToStory(storyId: $story, emoji: "🔥") { id } }'
MESSAGES = """
query($id: ID!) { node(id: $id) { ... on Conversation { messages(first: 10) {
  edges { node { body replyToStory { id } } } } } } }
"""
ACTIVITY = """
subscription { storyActivity {
  __typename
  ... on StoryReacted { story { id } user { username } emoji reactedAt }
  ... on StoryReplied { story { id } message { body sender { username } } }
} }
"""


async def follower_of(api: Api, author: TestUser) -> TestUser:
    fan = await api.sign_up()
    await add_edges(api, [("follow", db_id(fan.id), db_id(author.id))])
    return fan


async def test_a_reply_is_a_direct_message_that_references_the_story(api: Api) -> None:
    alice = await api.sign_up()
    bob = await follower_of(api, alice)
    story = await create_story(api, alice)

    first = (await api.gql(REPLY, {"story": story, "body": "nice!", "client": "r1"}, bob.token))[
        "replyToStory"
    ]
    again = (await api.gql(REPLY, {"story": story, "body": "nice!", "client": "r1"}, bob.token))[
        "replyToStory"
    ]

    assert first == again, "a retried reply returns the first message"
    assert first["conversation"]["isGroup"] is False and first["replyToStory"] == {"id": story}
    history = await api.gql(MESSAGES, {"id": first["conversation"]["id"]}, alice.token)
    edges = history["node"]["messages"]["edges"]
    assert [e["node"] for e in edges] == [{"body": "nice!", "replyToStory": {"id": story}}]

    api.clock.advance(api.services.settings.story_ttl_seconds + 1)
    history = await api.gql(MESSAGES, {"id": first["conversation"]["id"]}, alice.token)
    assert history["node"]["messages"]["edges"][0]["node"]["replyToStory"] is None
    late = await api.gql_error(REPLY, {"story": story, "body": "late", "client": "r2"}, bob.token)
    assert late.codes == ["NOT_FOUND"]


async def test_replying_to_a_story_you_cannot_see_is_not_found(api: Api) -> None:
    alice, stranger = await api.sign_up(), await api.sign_up()
    story = await create_story(api, alice, "FOLLOWERS")
    errors = await api.gql_error(REPLY, {"story": story, "body": "hi", "client": "x"}, stranger.token)
    assert errors.codes == ["NOT_FOUND"]
    own = await api.gql_error(REPLY, {"story": story, "body": "hi", "client": "y"}, alice.token)
    assert own.codes == ["BAD_USER_INPUT"]


async def test_the_author_sees_reactions_and_replies_live(api: Api) -> None:
    alice = await api.sign_up()
    bob = await follower_of(api, alice)
    story = await create_story(api, alice)
    async with graphql_socket(api.ws_url, alice.token) as socket:
        op = await socket.subscribe(ACTIVITY)
        await api.gql(REACT, {"story": story}, bob.token)
        reacted = (await socket.next(op))["storyActivity"]
        await api.gql(REPLY, {"story": story, "body": "wow", "client": "c1"}, bob.token)
        replied = (await socket.next(op))["storyActivity"]
    assert reacted["__typename"] == "StoryReacted"
    assert (reacted["story"]["id"], reacted["user"]["username"], reacted["emoji"]) == (
        story,
        bob.username,
        "🔥",
    )
    assert replied == {
        "__typename": "StoryReplied",
        "story": {"id": story},
        "message": {"body": "wow", "sender": {"username": bob.username}},
    }
