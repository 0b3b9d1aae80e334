"""WebSocket (graphql-transport-ws) connections: the token goes in the connection_init payload."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.harness import Api

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


async def test_a_bad_or_revoked_token_is_refused(api: Api) -> None:
    alice = await api.sign_up("alice")
    await api.gql(LOG_OUT, token=alice.token)
    for authorization in ("Bearer eph_forged", f"Bearer {alice.token}", "Basic YWxpY2U6cHc=", 42):
        async with connect(api.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
            await send(ws, {"type": "connection_init", "payload": {"Authorization": authorization}})
            assert await close_code(ws) == 4403, authorization


async def test_subscribe_before_connection_init_is_unauthorized(api: Api) -> None:
    async with connect(api.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await send(ws, {"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { id } }"}})
        assert await close_code(ws) == 4401
