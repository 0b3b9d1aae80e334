"""conversationEvents over a real graphql-transport-ws WebSocket: protocol, replay, live, rules, logOut."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import pytest
from websockets.asyncio.client import connect

from core.context import RequestContext
from models import Message
from resolvers.conversations.messages import visible_messages
from tests.harness import Api, ServerFactory, TestUser
from tests.test_conversation_statements import SEND_SEQ, SEND_STATEMENTS
from tests.test_conversations import BLOCK, MARK_READ, send, start
from tests.ws_client import PROTOCOL, graphql_socket

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

EVENTS = """
subscription($cid: ID, $after: Int) {
  conversationEvents(conversationId: $cid, afterSeq: $after) {
    __typename
    ... on MessageAdded { message { seq body sender { username } conversation { id } } }
    ... on ConversationRead { conversation { id } reader { username } upToSeq }
    ... on TypingChanged { conversation { id } user { username } isTyping }
  }
}
"""
TYPING = "mutation($cid: ID!, $on: Boolean!) { setTyping(conversationId: $cid, isTyping: $on) }"


def event(data: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = data["conversationEvents"]
    return payload


async def test_protocol_ping_complete_and_close_codes(api: Api) -> None:
    alice = await api.sign_up()
    async with graphql_socket(api.ws_url, alice.token) as socket:
        await socket.send({"type": "ping"})
        assert (await asyncio.wait_for(socket.other.get(), 5))["type"] == "pong"
        op = await socket.subscribe(EVENTS)
        await socket.complete(op)
        await socket.send({"type": "ping"})
        assert (await asyncio.wait_for(socket.other.get(), 5))["type"] == "pong"

    async with graphql_socket(api.ws_url, init=False) as socket:
        await socket.send({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}})
        assert await socket.closed() == (4401, "Unauthorized")

    async with graphql_socket(api.ws_url, init=False) as socket:
        await socket.send({"type": "connection_init", "payload": {"Authorization": "Bearer eph_nope"}})
        assert await socket.closed() == (4403, "Token unknown")

    async with graphql_socket(api.ws_url, None) as socket:
        op = await socket.subscribe(EVENTS)
        message = await socket.message(op)
        assert message["type"] in ("next", "error")
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_subscription_arguments_are_checked(api: Api) -> None:
    alice, bob, mallory = await api.sign_up(), await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    cases: list[tuple[TestUser, dict[str, Any], str]] = [
        (mallory, {"cid": cid}, "NOT_FOUND"),
        (alice, {"after": 1}, "BAD_USER_INPUT"),
    ]
    cases.append((alice, {"cid": cid, "after": -1}, "BAD_USER_INPUT"))
    for user, variables, code in cases:
        async with graphql_socket(api.ws_url, user.token) as socket:
            op = await socket.subscribe(EVENTS, variables)
            message = await socket.message(op)
            assert message["payload"]["errors"][0]["extensions"]["code"] == code, variables
            assert (await socket.message(op))["type"] == "complete"


async def test_live_messages_reads_and_typing(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    async with graphql_socket(api.ws_url, bob.token) as socket:
        op = await socket.subscribe(EVENTS)
        await api.subscribed(bob)  # live: nothing to replay without afterSeq
        for n in range(3):
            await send(api, alice, cid, f"hello {n}")
        for n in range(3):
            added = event(await socket.next(op))
            assert added["message"]["seq"] == n + 1
            assert added["message"]["sender"]["username"] == alice.username
        await api.gql(TYPING, {"cid": cid, "on": True}, token=alice.token)
        typing = event(await socket.next(op))
        assert typing == {
            "__typename": "TypingChanged",
            "conversation": {"id": cid},
            "user": {"username": alice.username},
            "isTyping": True,
        }
        await api.gql(TYPING, {"cid": cid, "on": True}, token=alice.token)  # a refresh is not news
        await api.gql(TYPING, {"cid": cid, "on": False}, token=alice.token)
        assert event(await socket.next(op))["isTyping"] is False
        await api.gql(MARK_READ, {"cid": cid, "seq": 2}, token=alice.token)
        read = event(await socket.next(op))
        assert (read["__typename"], read["reader"]["username"], read["upToSeq"]) == (
            "ConversationRead",
            alice.username,
            2,
        )
        await api.gql(TYPING, {"cid": cid, "on": True}, token=bob.token)  # one's own typing is not echoed
        await socket.nothing(op)


async def test_after_seq_replays_then_goes_live_without_gaps_or_repeats(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    await asyncio.gather(*(send(api, alice, cid, f"m{n}") for n in range(150)))  # more than a replay batch
    async with graphql_socket(api.ws_url, bob.token) as socket:
        op = await socket.subscribe(EVENTS, {"cid": cid, "after": 2})
        senders = asyncio.gather(*(send(api, alice if n % 2 else bob, cid, f"live{n}") for n in range(30)))
        received = [event(await socket.next(op))["message"]["seq"] for _ in range(178)]
        await senders
        await socket.nothing(op)
    assert received == list(range(3, 181))


async def test_all_conversations_stream_orders_each_conversation(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    one, group = await start(api, alice, bob), await start(api, alice, bob, carol)
    await send(api, alice, one, "before")
    async with graphql_socket(api.ws_url, bob.token) as socket:
        op = await socket.subscribe(EVENTS)
        await api.subscribed(bob)
        await asyncio.gather(
            *(send(api, alice, one, f"a{n}") for n in range(10)),
            *(send(api, carol, group, f"c{n}") for n in range(10)),
        )
        got: dict[str, list[int]] = {one: [], group: []}
        for _ in range(20):
            message = event(await socket.next(op))["message"]
            got[message["conversation"]["id"]].append(message["seq"])
    assert got == {one: list(range(2, 12)), group: list(range(1, 11))}


async def test_blocks_are_checked_for_each_event(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    group = await start(api, carol, alice, bob)
    async with graphql_socket(api.ws_url, bob.token) as socket:
        op = await socket.subscribe(EVENTS, {"cid": group})
        await api.subscribed(bob)
        await send(api, alice, group, "visible")
        assert event(await socket.next(op))["message"]["body"] == "visible"
        await api.gql(BLOCK, {"id": alice.id}, token=bob.token)  # the socket's context is long-lived
        await send(api, alice, group, "hidden")
        await api.gql(TYPING, {"cid": group, "on": True}, token=alice.token)
        await send(api, carol, group, "still here")
        assert event(await socket.next(op))["message"] == {
            "seq": 3,
            "body": "still here",
            "sender": {"username": carol.username},
            "conversation": {"id": group},
        }
        await socket.nothing(op)


async def test_typing_lapses_without_a_refresh(server: ServerFactory) -> None:
    async with server(typing_ttl_seconds=0.3) as api:
        alice, bob = await api.sign_up(), await api.sign_up()
        cid = await start(api, alice, bob)
        async with graphql_socket(api.ws_url, bob.token) as socket:
            op = await socket.subscribe(EVENTS, {"cid": cid})
            await api.subscribed(bob)
            await api.gql(TYPING, {"cid": cid, "on": True}, token=alice.token)
            assert event(await socket.next(op))["isTyping"] is True
            api.clock.advance(0.2)
            await socket.nothing(op)  # still typing before the time-to-live has passed
            api.clock.advance(0.2)
            lapsed = event(await socket.next(op))
            assert (lapsed["isTyping"], lapsed["user"]["username"]) == (False, alice.username)


async def test_log_out_closes_the_sockets_of_that_token(api: Api) -> None:
    alice = await api.sign_up()
    other_session = (
        await api.gql(
            "mutation($u: String!, $p: String!) { logIn(input: {username: $u, password: $p}) { token } }",
            {"u": alice.username, "p": alice.password},
        )
    )["logIn"]["token"]
    async with (
        graphql_socket(api.ws_url, alice.token) as first,
        graphql_socket(api.ws_url, alice.token) as second,
        graphql_socket(api.ws_url, other_session) as kept,
    ):
        op = await first.subscribe(EVENTS)
        await api.gql("mutation { logOut }", token=alice.token)
        assert await first.closed() == (4403, "Token revoked")
        assert await second.closed() == (4403, "Token revoked")
        assert first._queues[op].empty() or (await first.message(op))["type"] != "next"
        await kept.send({"type": "ping"})
        assert (await asyncio.wait_for(kept.other.get(), 5))["type"] == "pong"
    async with graphql_socket(api.ws_url, init=False) as socket:
        await socket.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {alice.token}"}})
        assert await socket.closed() == (4403, "Token revoked")


async def test_a_slow_consumer_is_cut_off_not_buffered(server: ServerFactory) -> None:
    # 50 aliases make each event ~100 kB; the alias limit is raised for that alone. The client
    # reads raw frames and stops reading for a while: keep-alive pings (one an interval after the
    # socket opened) would stand where an event is expected, so they are pushed out of reach.
    async with server(subscription_queue_size=4, max_aliases=60, ws_keepalive_seconds=3600) as api:
        alice, bob = await api.sign_up(), await api.sign_up()
        cid = await start(api, alice, bob)
        # Each event carries ~100 kB (aliases of a 2,000-character body), so socket buffers fill fast.
        fields = " ".join(f"b{n}: body" for n in range(50))
        query = (
            "subscription($cid: ID) { conversationEvents(conversationId: $cid) "
            f"{{ ... on MessageAdded {{ message {{ seq {fields} }} }} }} }}"
        )
        # A consumer that stops reading: a tiny receive window makes the server's writes block soon.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", int(api.base_url.rsplit(":", 1)[1])))
        async with connect(
            api.ws_url,
            sock=sock,
            subprotocols=[PROTOCOL],  # type: ignore[list-item]
            max_queue=1,
            max_size=None,
            compression=None,  # each event's repeated text would otherwise shrink to nothing
        ) as ws:
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {bob.token}"}})
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"cid": cid}}}
                )
            )
            # Live once the server says so (a message sent before would not be delivered: the
            # subscription starts at the live end); from the first event on the client reads nothing.
            await api.subscribed(bob)
            await send(api, alice, cid, "x" * 2000)
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert first["type"] == "next", first
            pubsub = api.services.pubsub
            sent = 1
            while pubsub.overflows == 0:
                assert sent < 400, "the subscriber was never cut off"
                await asyncio.gather(*(send(api, alice, cid, "x" * 2000) for _ in range(10)))
                sent += 10
            # The client reads again: what was in flight, then the error telling it to resubscribe.
            seqs: list[int] = [first["payload"]["data"]["conversationEvents"]["message"]["seq"]]
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if message["type"] == "complete":
                    break
                assert message["type"] == "next", message
                if message["payload"].get("errors"):
                    error = message["payload"]["errors"][0]
                    continue
                seqs.append(message["payload"]["data"]["conversationEvents"]["message"]["seq"])
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["resubscribe"] is True
        assert error["extensions"]["afterSeq"] == seqs[-1]
        assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) < sent
        assert pubsub.overflows == 1


DELIVERED = "subscription { conversationEvents { ... on MessageAdded { message { seq } } } }"


async def test_a_delivered_message_costs_a_fixed_number_of_statements(api: Api, backend: str) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    async with graphql_socket(api.ws_url, bob.token) as socket:
        op = await socket.subscribe(DELIVERED)
        await api.subscribed(bob)
        await send(api, alice, cid, "warm")
        assert event(await socket.next(op))["message"]["seq"] == 1
        with api.count_statements() as statements:
            await api.gql(SEND_SEQ, {"cid": cid, "clientId": "counted"}, token=alice.token)
            assert event(await socket.next(op))["message"]["seq"] == 2
    # The send's own (tests/test_conversation_statements.py), then the delivery: the catch-up reads
    # the message with the viewer's membership row in one statement and the relationship to its
    # sender (blocks); the frame reuses both (live.reuse) instead of reading them again. Before
    # issue 26's cuts the catch-up read 4 and the frame 2 more.
    shown = [" ".join(s.split())[:150] for s in statements]
    assert len(statements) == SEND_STATEMENTS[backend, "direct"] + 2, shown


async def test_a_block_committed_after_the_catch_up_read_applies_from_the_next_event(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catch-up's read is authoritative for the message it delivers (it read the message with the
    membership, then the relationship to its sender); the frame renders that decision with the same
    rows. A block committed between that read and the frame: the frame shows the message whole, as
    read before the block (never half of it, nor an error), and every later event reads afresh."""
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    group = await start(api, carol, alice, bob)

    async def then_block(ctx: RequestContext, rows: list[Message]) -> list[bool]:
        shown = await visible_messages(ctx, rows)
        if any(row.body == "raced" for row in rows):
            await api.gql(BLOCK, {"id": alice.id}, token=bob.token)
        return shown

    monkeypatch.setattr("resolvers.conversations.live.visible_messages", then_block)
    async with graphql_socket(api.ws_url, bob.token) as socket:
        op = await socket.subscribe(EVENTS, {"cid": group})
        await api.subscribed(bob)
        await send(api, alice, group, "raced")
        data = await socket.next(op)
        assert event(data)["message"] == {
            "seq": 1,
            "body": "raced",
            "sender": {"username": alice.username},
            "conversation": {"id": group},
        }
        await send(api, alice, group, "after the block")
        await send(api, carol, group, "still here")
        assert event(await socket.next(op))["message"]["body"] == "still here"
        await socket.nothing(op)
