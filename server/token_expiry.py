"""Closing each WebSocket when its token expires, as HTTP and new sockets would then refuse it.

One task for every socket of a view, not one per socket: it sleeps on the app's clock (tests move
it) until the soonest expiry, closes the sockets whose token has expired by then, and sleeps again.
A socket that closes first is forgotten at once; its entry in the heap is skipped when it comes up,
and the heap is rebuilt when such entries outnumber the live ones.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from datetime import datetime
from typing import Protocol

from core.context import Services
from server.token_watch import SocketContext as WatchedSocket
from server.token_watch import close


class SocketContext(WatchedSocket, Protocol):
    """What the expiry watch uses of a socket's context (server/ws.py's `SocketContext`): the
    revocation watch's view of it, and the socket's place in the expiry heap."""

    expiry_number: int | None


log = logging.getLogger("ephemera.ws")

TOKEN_EXPIRED = (4403, "Token expired")


class ExpiryWatch:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int]] = []
        self._sockets: dict[int, SocketContext] = {}
        self._numbers = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._soonest: datetime | None = None  # what the task sleeps until
        self._closing: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._sockets)

    def watch(self, ctx: SocketContext, expires: datetime) -> None:
        number = next(self._numbers)
        ctx.expiry_number = number
        self._sockets[number] = ctx
        heapq.heappush(self._heap, (expires, number))
        if self._task is None or self._soonest is None or expires < self._soonest:
            self._restart(ctx.services)

    def forget(self, ctx: SocketContext) -> None:
        number, ctx.expiry_number = ctx.expiry_number, None
        if number is None or self._sockets.pop(number, None) is None:
            return
        if not self._sockets:
            self._heap.clear()
            self._stop()
        elif len(self._heap) > 2 * len(self._sockets) + 64:
            self._heap = [entry for entry in self._heap if entry[1] in self._sockets]
            heapq.heapify(self._heap)

    def _stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task, self._soonest = None, None

    def _restart(self, services: Services) -> None:
        self._stop()
        self._task = asyncio.create_task(self._run(services), name="ws-token-expiry")

    async def _run(self, services: Services) -> None:
        clock = services.clock
        while self._heap:
            self._soonest = self._heap[0][0]
            await clock.sleep_until(self._soonest)
            now = clock.now()
            while self._heap and self._heap[0][0] <= now:
                _, number = heapq.heappop(self._heap)
                ctx = self._sockets.pop(number, None)
                if ctx is not None:
                    ctx.expiry_number = None
                    self._expire(ctx)
        self._task, self._soonest = None, None

    def _expire(self, ctx: SocketContext) -> None:
        ctx.viewer = None
        if ctx.websocket is not None:
            task = asyncio.create_task(close(ctx.websocket, TOKEN_EXPIRED))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
