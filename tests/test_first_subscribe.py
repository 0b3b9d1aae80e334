"""No message is lost between subscribing and sending: the first subscribe passes `afterSeq` from
the history query (as docs/api.md shows), so a message sent right after `subscribe`, before the
server listens, comes from the database replay; one sent later comes live. None twice."""

from __future__ import annotations

import asyncio

import pytest

from tests.harness import Api
from tests.test_conversations import send, start
from tests.ws_client import graphql_socket

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

HISTORY = """
query($cid: ID!) {
  node(id: $cid) { ... on Conversation { messages(last: 20) { edges { node { seq body } } } } }
}
"""
EVENTS = """
subscription($cid: ID, $after: Int) {
  conversationEvents(conversationId: $cid, afterSeq: $after) { ... on MessageAdded { message { seq body } } }
}
"""
ROUNDS = 10


async def last_seq(api: Api, token: str, cid: str) -> int:
    edges = (await api.gql(HISTORY, {"cid": cid}, token))["node"]["messages"]["edges"]
    return int(edges[-1]["node"]["seq"]) if edges else 0


async def test_a_message_sent_right_after_subscribe_is_delivered_once(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    async with graphql_socket(api.ws_url, bob.token) as socket:
        for round_ in range(ROUNDS):
            after = await last_seq(api, bob.token, cid)
            op = await socket.subscribe(EVENTS, {"cid": cid, "after": after})
            # Sent at once: the server may not have subscribed to the channel yet.
            sent = await send(api, alice, cid, f"right after subscribe {round_}")
            later = await send(api, alice, cid, f"later {round_}")
            received = [(await socket.next(op))["conversationEvents"]["message"] for _ in range(2)]
            assert received == [
                {"seq": sent["seq"], "body": sent["body"]},
                {"seq": later["seq"], "body": later["body"]},
            ]
            await socket.nothing(op, wait=0.05)
            await socket.complete(op)


async def test_a_new_conversation_starts_from_seq_zero(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    assert await last_seq(api, bob.token, cid) == 0
    async with graphql_socket(api.ws_url, bob.token) as socket:
        op = await socket.subscribe(EVENTS, {"cid": cid, "after": 0})
        first, _ = await asyncio.gather(socket.next(op), send(api, alice, cid, "hello"))
    assert first["conversationEvents"]["message"] == {"seq": 1, "body": "hello"}
