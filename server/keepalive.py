"""Server keep-alive on graphql-transport-ws (strawberry pings only on the legacy protocol): idle
sockets stay open through proxies, and peers that stopped answering are closed.

One timer for every socket of a process, not a task per socket. The interval is cut into ticks (at
most 15, so one per second at the default 15 s) and the sockets into as many slots, one slot
visited per tick; a socket joins the slot visited last, so each is visited once per interval. At
its visit an acknowledged socket that

- sent anything but a `pong` since its last visit is alive and busy: it is left alone;
- left the `ping` of its last visit unanswered (no message at all since) is closed with 4408
  (a timeout: graphql-ws clients reconnect after it) and leaves the wheel;
- is otherwise sent a `ping`, which it has one interval to answer.

A visit that starts a tick or more late (the process was stalled, and pongs may be waiting
unread) closes nobody. A socket's state is two flags on its handler; the sweep yields to the loop
every `BATCH` sockets, and gives up on a send that waits on a full socket after `SEND_TIMEOUT`
(uvicorn's protocol-level ping, which writes past the buffer, ends such a socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

log = logging.getLogger("ephemera.ws")

KEEPALIVE_TIMEOUT = (4408, "Keep-alive timeout: no pong")
MAX_TICKS = 15
BATCH = 64
SEND_TIMEOUT = 1.0


class KeepAliveHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    # Since the socket's last visit: it sent something other than a pong; a ping went unanswered.
    keepalive_heard = False
    keepalive_awaiting = False

    async def handle(self) -> None:
        wheel = getattr(self.view, "keepalive", None)
        if not isinstance(wheel, KeepAlive):
            await super().handle()
            return
        wheel.watch(self)
        try:
            await super().handle()
        finally:
            wheel.forget(self)

    async def handle_message(self, message: Message) -> None:
        self.keepalive_awaiting = False
        if message.get("type") != "pong":
            self.keepalive_heard = True
        await super().handle_message(message)


class KeepAlive:
    """The timer wheel of one view's sockets; its task runs while there are sockets to watch."""

    def __init__(self, interval: float) -> None:
        if interval <= 0:
            raise ValueError("the keep-alive interval must be positive")
        self.interval = interval
        ticks = max(1, min(MAX_TICKS, int(interval)))
        self.tick = interval / ticks
        self.slots: list[set[KeepAliveHandler]] = [set() for _ in range(ticks)]
        self.cursor = 0  # the slot visited next
        self.pings = 0
        self.closed = 0
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return sum(len(slot) for slot in self.slots)

    def watch(self, handler: KeepAliveHandler) -> None:
        self.slots[self.cursor - 1].add(handler)
        if self._task is None:
            self._task = asyncio.create_task(self._turn(), name="ws-keepalive")

    def forget(self, handler: KeepAliveHandler) -> None:
        for slot in self.slots:
            slot.discard(handler)
        if self._task is not None and not any(self.slots):
            self._task.cancel()
            self._task = None

    async def _turn(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            deadline += self.tick
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            # Woken a tick or more late, this process was stalled (a long garbage collection, a
            # blocking call): pongs that came meanwhile may not be read yet, so nobody is closed.
            stalled = loop.time() - deadline > self.tick
            if stalled:
                deadline = loop.time()
            slot = self.slots[self.cursor]
            self.cursor = (self.cursor + 1) % len(self.slots)
            try:
                await self.visit(slot, close=not stalled)
            except Exception:
                log.exception("keep-alive sweep failed")

    async def visit(self, slot: set[KeepAliveHandler], close: bool = True) -> None:
        for n, handler in enumerate(list(slot), 1):
            if not handler.connection_acknowledged:
                continue
            if handler.keepalive_heard:
                handler.keepalive_heard = False
            elif handler.keepalive_awaiting:
                if not close:
                    continue  # still awaited: judged at its next visit
                self.closed += 1
                slot.discard(handler)  # visited no more, even if it is slow to go
                await self._send(handler.websocket.close(*KEEPALIVE_TIMEOUT))
            else:
                handler.keepalive_awaiting = True
                self.pings += 1
                await self._send(handler.send_message({"type": "ping"}))
            if n % BATCH == 0:
                await asyncio.sleep(0)

    @staticmethod
    async def _send(sending: Any) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(SEND_TIMEOUT):
                await sending
