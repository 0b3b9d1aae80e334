"""MessageChanged and MembersChanged over a real WebSocket: edits, unsends and reactions live and
in a replay, membership changes in the conversation's order, a removed member's sockets going
quiet, and a message request's read marks and typing reaching nobody."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conversation_helpers import ACCEPT, ADD, DECLINE, EDIT, REACT, REMOVE, RENAME, UNSEND
from tests.harness import Api
from tests.test_conversation_events import TYPING, event
from tests.test_conversations import MARK_READ, send, start
from tests.ws_client import graphql_socket

pytestmark = pytest.mark.served

LIVE = """
subscription($cid: ID, $after: Int) {
  conversationEvents(conversationId: $cid, afterSeq: $after) {
    __typename
    ... on MessageAdded { message { seq body editedAt unsentAt reactions { emoji user { username } } } }
    ... on MessageChanged { message { seq body editedAt unsentAt reactions { emoji user { username } } } }
    ... on MembersChanged { conversation { id title members { username } } added { username }
                            removed { username } }
    ... on ConversationRead { upToSeq }
    ... on TypingChanged { isTyping user { username } }
  }
}
"""


def kind(data: dict[str, Any]) -> str:
    typename: str = event(data)["__typename"]
    return typename


async def test_edits_unsends_and_reactions_reach_every_member_live(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    async with graphql_socket(api.ws_url, bob.token) as socket:
        op = await socket.subscribe(LIVE)
        await api.subscribed(bob)
        message = await send(api, alice, cid, "at 8")
        assert event(await socket.next(op))["message"]["body"] == "at 8"

        await api.gql(EDIT, {"id": message["id"], "body": "at 9"}, token=alice.token)
        changed = await socket.next(op)
        assert kind(changed) == "MessageChanged"
        assert event(changed)["message"]["body"] == "at 9"
        assert event(changed)["message"]["editedAt"] is not None

        await api.gql(REACT, {"id": message["id"], "emoji": "👍"}, token=bob.token)
        reacted = event(await socket.next(op))["message"]
        assert reacted["reactions"] == [{"emoji": "👍", "user": {"username": bob.username}}]

        await api.gql(UNSEND, {"id": message["id"]}, token=alice.token)
        unsent = event(await socket.next(op))["message"]
        assert (unsent["seq"], unsent["body"], unsent["reactions"]) == (1, "", [])
        assert unsent["unsentAt"] is not None
        # Retries change nothing, and publish nothing.
        await api.gql(UNSEND, {"id": message["id"]}, token=alice.token)
        await socket.nothing(op)


async def test_a_replay_shows_each_message_as_it_is_now(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    first = await send(api, alice, cid, "one")
    second = await send(api, alice, cid, "two")
    await send(api, alice, cid, "three")
    await api.gql(EDIT, {"id": first["id"], "body": "one, edited"}, token=alice.token)
    await api.gql(UNSEND, {"id": second["id"]}, token=alice.token)
    async with graphql_socket(api.ws_url, bob.token) as socket:
        op = await socket.subscribe(LIVE, {"cid": cid, "after": 0})
        replayed = [event(await socket.next(op)) for _ in range(3)]
    assert [e["__typename"] for e in replayed] == ["MessageAdded"] * 3
    assert [(e["message"]["seq"], e["message"]["body"]) for e in replayed] == [
        (1, "one, edited"),
        (2, ""),
        (3, "three"),
    ]
    assert replayed[0]["message"]["editedAt"] is not None
    assert replayed[1]["message"]["unsentAt"] is not None


async def test_membership_changes_come_in_the_conversations_order(api: Api) -> None:
    alice, bob, carol, dave = [await api.sign_up() for _ in range(4)]
    cid = await start(api, alice, bob, carol, title="Trip")
    await send(api, alice, cid, "before dave")
    async with (
        graphql_socket(api.ws_url, bob.token) as bob_socket,
        graphql_socket(api.ws_url, dave.token) as dave_socket,
    ):
        bob_op = await bob_socket.subscribe(LIVE)
        dave_op = await dave_socket.subscribe(LIVE)
        await api.subscribed(bob)
        await api.subscribed(dave)

        await api.gql(ADD, {"cid": cid, "ids": [dave.id]}, token=alice.token)
        for socket, op in ((bob_socket, bob_op), (dave_socket, dave_op)):
            added = event(await socket.next(op))
            assert added["__typename"] == "MembersChanged"
            assert (added["added"], added["removed"]) == ([{"username": dave.username}], [])
            assert len(added["conversation"]["members"]) == 4
        # dave's stream starts where he joined: the next message, not the history.
        await send(api, alice, cid, "welcome dave")
        assert event(await dave_socket.next(dave_op))["message"]["seq"] == 2
        assert event(await bob_socket.next(bob_op))["message"]["seq"] == 2

        await api.gql(RENAME, {"cid": cid, "title": "Lisbon"}, token=alice.token)
        renamed = event(await dave_socket.next(dave_op))
        assert (renamed["__typename"], renamed["conversation"]["title"]) == ("MembersChanged", "Lisbon")
        assert (renamed["added"], renamed["removed"]) == ([], [])
        assert event(await bob_socket.next(bob_op))["conversation"]["title"] == "Lisbon"


async def test_a_removed_member_receives_nothing_more(api: Api) -> None:
    alice, bob, carol = [await api.sign_up() for _ in range(3)]
    group = await start(api, alice, bob, carol)
    direct = await start(api, alice, bob)
    message = await send(api, alice, group, "hi both")
    async with (
        graphql_socket(api.ws_url, bob.token) as bob_socket,
        graphql_socket(api.ws_url, carol.token) as carol_socket,
    ):
        everything = await bob_socket.subscribe(LIVE)
        only_group = await bob_socket.subscribe(LIVE, {"cid": group, "after": 1})
        carol_op = await carol_socket.subscribe(LIVE)
        await api.subscribed(bob, 2)
        await api.subscribed(carol)

        await api.gql(REMOVE, {"cid": group, "id": bob.id}, token=alice.token)
        removed = event(await carol_socket.next(carol_op))
        assert removed["removed"] == [{"username": bob.username}]
        # Everything that happens in the group afterwards reaches carol and not bob.
        await send(api, alice, group, "bob is gone")
        await api.gql(EDIT, {"id": message["id"], "body": "hi carol"}, token=alice.token)
        await api.gql(REACT, {"id": message["id"], "emoji": "👋"}, token=carol.token)
        await api.gql(TYPING, {"cid": group, "on": True}, token=alice.token)
        await api.gql(MARK_READ, {"cid": group, "seq": 2}, token=carol.token)
        kinds = [kind(await carol_socket.next(carol_op)) for _ in range(4)]
        assert kinds == ["MessageAdded", "MessageChanged", "MessageChanged", "TypingChanged"]

        # The first thing bob's all-conversations stream gets is what came after, elsewhere.
        await send(api, alice, direct, "just us")
        assert event(await bob_socket.next(everything))["message"]["body"] == "just us"
        await bob_socket.nothing(only_group)
        await bob_socket.nothing(everything)

        # A new subscription to the group, with afterSeq or without, is NOT_FOUND for bob.
        again = await bob_socket.subscribe(LIVE, {"cid": group, "after": 0})
        refused = await bob_socket.message(again)
        errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_requests_read_marks_and_typing_reach_nobody_until_accepted(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    await send(api, alice, cid, "hi")
    async with graphql_socket(api.ws_url, alice.token) as socket:
        op = await socket.subscribe(LIVE)
        await api.subscribed(alice)
        await api.gql(MARK_READ, {"cid": cid, "seq": 1}, token=bob.token)
        await api.gql(TYPING, {"cid": cid, "on": True}, token=bob.token)
        await socket.nothing(op)

        await api.gql(ACCEPT, {"cid": cid}, token=bob.token)
        await api.gql(TYPING, {"cid": cid, "on": True}, token=bob.token)
        typing = event(await socket.next(op))
        assert (typing["__typename"], typing["isTyping"]) == ("TypingChanged", True)


async def test_a_declined_request_reaches_its_recipient_no_more(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    request = await start(api, alice, bob)
    other = await start(api, carol, bob)
    await send(api, alice, request, "hi")
    async with graphql_socket(api.ws_url, bob.token) as socket:
        op = await socket.subscribe(LIVE)
        await api.subscribed(bob)
        await api.gql(DECLINE, {"cid": request}, token=bob.token)
        await send(api, alice, request, "hello??")
        await api.gql(TYPING, {"cid": request, "on": True}, token=alice.token)
        # The first thing bob gets is what came after, in another conversation.
        await send(api, carol, other, "hey bob")
        assert event(await socket.next(op))["message"]["body"] == "hey bob"
        await socket.nothing(op)
