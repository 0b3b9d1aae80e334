"""Server keep-alive on graphql-transport-ws (server/keepalive.py): one timer pings idle sockets and
closes those that left a ping unanswered; answering keeps a socket open.

Each test waits on what the server sends (a ping, a close), not on sleeps: with a 1 s interval
every socket is visited once a second."""

from __future__ import annotations

import asyncio
from typing import Any

from server.keepalive import KeepAlive
from server.ws import GraphQLWebSocket
from tests.harness import ServerFactory
from tests.ws_client import GraphQLSocket, graphql_socket

SUBSCRIPTION = "subscription { conversationEvents { __typename } }"


async def next_ping(socket: GraphQLSocket) -> None:
    message = await asyncio.wait_for(socket.other.get(), timeout=5)
    assert message["type"] == "ping", message


async def test_a_socket_that_answers_stays_open_and_one_that_does_not_is_closed(
    server: ServerFactory,
) -> None:
    async with server(ws_keepalive_seconds=1) as api:
        user = await api.sign_up()
        async with (
            graphql_socket(api.ws_url, user.token) as silent,
            graphql_socket(api.ws_url, user.token) as answering,
        ):
            op = await answering.subscribe(SUBSCRIPTION)
            await next_ping(silent)
            # Two pings answered in a row: the visit that sent the second found the first answered.
            for _ in range(2):
                await next_ping(answering)
                await answering.send({"type": "pong"})
            code, reason = await silent.closed()
            # Still open and serving after the silent one was closed.
            await answering.nothing(op)
            assert answering.ws.close_code is None
            await next_ping(answering)
    assert (code, reason) == (4408, "Keep-alive timeout: no pong")


class FakeSocket:
    """What a visit reads and calls on a handler."""

    def __init__(self, acknowledged: bool = True) -> None:
        self.connection_acknowledged = acknowledged
        self.keepalive_heard = False
        self.keepalive_awaiting = False
        self.websocket = self
        self.sent: list[str] = []
        self.close_code: int | None = None

    async def send_message(self, message: dict[str, Any]) -> None:
        self.sent.append(message["type"])

    async def close(self, code: int, reason: str) -> None:
        self.close_code = code


async def test_a_visit_pings_the_idle_skips_the_busy_and_closes_the_silent() -> None:
    wheel = KeepAlive(15)
    idle, busy, silent, unacknowledged = FakeSocket(), FakeSocket(), FakeSocket(), FakeSocket(False)
    sockets: set[Any] = {idle, busy, silent, unacknowledged}
    for _ in range(3):
        busy.keepalive_heard = True  # it sent a message since its last visit
        await wheel.visit(sockets)
        idle.keepalive_awaiting = False  # and answered the ping
    assert idle.sent == ["ping", "ping", "ping"] and idle.close_code is None
    assert busy.sent == [] and busy.close_code is None
    assert silent.sent == ["ping"] and silent.close_code == 4408
    assert unacknowledged.sent == [] and unacknowledged.close_code is None
    assert (wheel.pings, wheel.closed) == (4, 1) and sockets == {idle, busy, unacknowledged}


async def test_a_late_visit_closes_nobody() -> None:
    wheel = KeepAlive(15)
    silent = FakeSocket()
    sockets: set[Any] = {silent}
    await wheel.visit(sockets)
    await wheel.visit(sockets, close=False)  # the process was stalled: the pong may be unread
    assert silent.sent == ["ping"] and silent.close_code is None and silent.keepalive_awaiting
    await wheel.visit(sockets)
    assert silent.close_code == 4408 and not sockets


def test_the_interval_is_cut_into_at_most_15_ticks() -> None:
    assert [(len(KeepAlive(s).slots), KeepAlive(s).tick) for s in (1, 2, 15, 60)] == [
        (1, 1.0),
        (2, 1.0),
        (15, 1.0),
        (15, 4.0),
    ]


async def test_the_timer_stops_with_the_last_socket(server: ServerFactory) -> None:
    async with server(ws_keepalive_seconds=1) as api:
        view = api.app.state.websockets
        assert isinstance(view, GraphQLWebSocket) and isinstance(view.keepalive, KeepAlive)
        async with graphql_socket(api.ws_url, None) as socket:
            await next_ping(socket)
            timer = view.keepalive._task
            assert len(view.keepalive) == 1 and timer is not None
        # The server's side of the socket ends after the client's; then the timer is cancelled.
        await asyncio.wait([timer], timeout=5)
        assert timer.cancelled() and len(view.keepalive) == 0 and view.keepalive._task is None
