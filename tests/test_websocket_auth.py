"""WebSocket (graphql-transport-ws) connections: the token goes in the connection_init payload."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import update
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from models import AuthToken
from resolvers.accounts.auth import token_hash
from subscriptions import resync, revocations_channel
from tests.harness import Api, ServerFactory
from tests.ws_client import graphql_socket

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

PROTOCOL = "graphql-transport-ws"
LOG_OUT = "mutation LogOut { logOut }"


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def receive(ws: ClientConnection) -> Any:
    return json.loads(await ws.recv(decode=True))


async def close_code(ws: ClientConnection) -> int | None:
    """The code the server closes with; fails if it sends a message instead."""
    with pytest.raises(ConnectionClosed) as closed:
        message = await ws.recv()
        pytest.fail(f"expected the server to close, got {message!r}")
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_a_valid_token_is_acknowledged_and_ping_gets_pong(api: Api) -> None:
    alice = await api.sign_up("alice")
    async with connect(api.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == PROTOCOL
        await send(ws, {"type": "connection_init", "payload": {"Authorization": f"Bearer {alice.token}"}})
        assert (await receive(ws))["type"] == "connection_ack"
        await send(ws, {"type": "ping"})
        assert (await receive(ws))["type"] == "pong"


async def close_reason(api: Api, authorization: object) -> tuple[int, str] | None:
    async with connect(api.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await send(ws, {"type": "connection_init", "payload": {"Authorization": authorization}})
        with pytest.raises(ConnectionClosed) as closed:
            pytest.fail(f"expected the server to close, got {await ws.recv()!r}")
    return (closed.value.rcvd.code, closed.value.rcvd.reason) if closed.value.rcvd else None


async def test_a_bad_or_revoked_token_is_refused_saying_why(api: Api) -> None:
    alice, bob = await api.sign_up("alice"), await api.sign_up("bob")
    await api.gql(LOG_OUT, token=alice.token)
    refusals = {
        "Bearer eph_forged": "Token unknown",
        f"Bearer {alice.token}": "Token revoked",
        "Basic YWxpY2U6cHc=": "Token malformed",
        42: "Token malformed",
    }
    for authorization, reason in refusals.items():
        assert await close_reason(api, authorization) == (4403, reason), authorization
    api.clock.advance(api.services.settings.token_ttl_seconds + 1)
    assert await close_reason(api, f"Bearer {bob.token}") == (4403, "Token expired")


async def test_subscribe_before_connection_init_is_unauthorized(api: Api) -> None:
    async with connect(api.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await send(ws, {"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { id } }"}})
        assert await close_code(ws) == 4401


async def _init_closes_with(api: Api, payload: Any) -> int | None:
    async with connect(api.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await send(ws, {"type": "connection_init", "payload": payload})
        return await close_code(ws)


async def test_a_payload_of_another_shape_is_refused_not_anonymous(api: Api) -> None:
    alice = await api.sign_up("alice")
    shapes = [
        {"token": alice.token},
        {"headers": {"Authorization": f"Bearer {alice.token}"}},
        {"Authorization": f"Bearer {alice.token}", "extra": 1},
    ]
    assert [await _init_closes_with(api, payload) for payload in shapes] == [4400, 4400, 4400]
    for token_line in (alice.token, "", f"Token {alice.token}"):
        assert await _init_closes_with(api, {"Authorization": token_line}) == 4403, token_line


async def test_the_documented_shapes_are_acknowledged(api: Api) -> None:
    alice = await api.sign_up("alice")
    for payload in ({"authorization": f"Bearer {alice.token}"}, {"Authorization": None}, {}, None):
        async with connect(api.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
            message: dict[str, Any] = {"type": "connection_init"}
            if payload is not None:
                message["payload"] = payload
            await send(ws, message)
            assert (await receive(ws))["type"] == "connection_ack", payload


async def test_an_open_socket_is_closed_when_its_token_expires(server: ServerFactory) -> None:
    async with server(token_ttl_seconds=600) as api:
        alice = await api.sign_up("alice")
        async with graphql_socket(api.ws_url, alice.token) as socket:
            op = await socket.subscribe("subscription { conversationEvents { __typename } }")
            api.clock.advance(599)
            await socket.nothing(op)
            api.clock.advance(1)
            assert await socket.closed() == (4403, "Token expired")
        refused = await api.post("{ viewer { id } }", token=alice.token)
    assert refused["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "TOKEN_EXPIRED"}


async def test_sockets_share_one_revocation_subscription(api: Api) -> None:
    users = [await api.sign_up() for _ in range(3)]
    async with (
        graphql_socket(api.ws_url, users[0].token),
        graphql_socket(api.ws_url, users[1].token),
        graphql_socket(api.ws_url, users[2].token),
    ):
        local = api.services.pubsub._local
        watching = len(local[revocations_channel()])
        assert not [channel for channel in local if channel.startswith("token:")]
    # The token cache's subscription and the sockets' one, however many sockets.
    assert watching == 2


async def test_a_resync_closes_the_sockets_of_a_token_revoked_meanwhile(server: ServerFactory) -> None:
    async with server(token_cache_seconds=0) as api:
        alice, bob = await api.sign_up(), await api.sign_up()
        async with (
            graphql_socket(api.ws_url, alice.token) as revoked,
            graphql_socket(api.ws_url, bob.token) as kept,
        ):
            # A logOut whose announcement was lost (the broker was away): only the database knows.
            async with api.services.db.write() as session:
                await session.execute(
                    update(AuthToken)
                    .where(AuthToken.token_hash == token_hash(alice.token))
                    .values(revoked_at=api.clock.now())
                )
            await api.services.pubsub.publish(revocations_channel(), resync())
            assert await revoked.closed() == (4403, "Token revoked")
            await kept.send({"type": "ping"})
            assert (await asyncio.wait_for(kept.other.get(), 5))["type"] == "pong"
