"""Malformed graphql-transport-ws frames close the socket with the protocol's 4400, never crash
the handler (1011) or drop the connection (1006); the server keeps serving. Real sockets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.harness import Api, ServerFactory
from tests.ws_client import graphql_socket

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

PROTOCOL = [Subprotocol("graphql-transport-ws")]
EVENTS = "subscription { conversationEvents { __typename } }"
DEEP = '{"type":"subscribe","id":"1","payload":{"query":"{ viewer { id } }","variables":{"a":' + (
    "[" * 20_000 + "]" * 20_000 + "}}}"
)

# (name, frame sent after connection_init (None: instead of it), close code expected)
FRAMES: list[tuple[str, str | bytes, bool]] = [
    ("a list", "[]", True),
    ("a number", "1", False),
    ("a type that is not a string", '{"type": 1}', False),
    ("not JSON", "{", False),
    ("a binary frame", b"\x00\x01", False),
    ("an init payload that is a list", '{"type": "connection_init", "payload": []}', False),
    (
        "an id that is an object",
        '{"type": "subscribe", "id": {}, "payload": {"query": "{ viewer { id } }"}}',
        True,
    ),
    ("an empty id", '{"type": "subscribe", "id": "", "payload": {"query": "{ viewer { id } }"}}', True),
    ("a payload that is a list", '{"type": "subscribe", "id": "1", "payload": []}', True),
    ("a query that is a number", '{"type": "subscribe", "id": "1", "payload": {"query": 1}}', True),
    ("no payload", '{"type": "subscribe", "id": "1"}', True),
    (
        "variables that are a list",
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ viewer { id } }", "variables": [1]}}',
        True,
    ),
    ("a complete with a numeric id", '{"type": "complete", "id": 5}', True),
    ("a frame nested 20,000 deep", DEEP, True),
    ("an unknown type", '{"type": "hello"}', True),
]


async def _close_code(ws: ClientConnection) -> int | None:
    try:
        message = await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    raise AssertionError(f"expected a close, got {message!r}")


async def _frame_closes_with(api: Api, frame: str | bytes, after_init: bool) -> int | None:
    async with connect(api.ws_url, subprotocols=PROTOCOL, max_size=None) as ws:
        if after_init:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(frame)
        return await _close_code(ws)


async def test_malformed_frames_close_with_4400_and_the_server_stays_up(api: Api) -> None:
    codes = {name: await _frame_closes_with(api, frame, init) for name, frame, init in FRAMES}
    assert codes == {name: 4400 for name, _, _ in FRAMES}
    assert await api.gql("{ viewer { id } }") == {"viewer": None}


async def test_unstorable_text_in_a_subscription_is_a_coded_error(api: Api) -> None:
    alice = await api.sign_up()
    async with graphql_socket(api.ws_url, alice.token) as socket:
        op = await socket.subscribe(
            "subscription($id: ID) { conversationEvents(conversationId: $id) { __typename } }",
            {"id": "\ud800"},
        )
        refused = await socket.message(op)
        ended = await socket.message(op)
    # Refused before it started, as a limit refuses it: one result with the error, then complete.
    assert refused["type"] == "next" and refused["payload"]["data"] is None
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert ended["type"] == "complete"


async def test_two_operations_without_a_name_close_with_4400(api: Api) -> None:
    async with graphql_socket(api.ws_url) as socket:
        await socket.subscribe(f"{EVENTS} subscription B {{ storyActivity {{ __typename }} }}")
        code, _ = await socket.closed()
    assert code == 4400


async def test_the_subscription_limit_is_a_coded_error(server: ServerFactory) -> None:
    async with server(max_subscriptions_per_connection=2) as api:
        alice = await api.sign_up()
        async with graphql_socket(api.ws_url, alice.token) as socket:
            for _ in range(2):
                await socket.subscribe(EVENTS)
            refused: dict[str, Any] = await socket.message(await socket.subscribe(EVENTS))
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"] == {"code": "BAD_REQUEST", "maxSubscriptions": 2}
