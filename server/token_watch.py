"""Closing the WebSockets of a revoked token, whatever the broker does.

Three ways a revocation reaches an open socket, fastest first:
- the announcement: `logOut` leaves an outbox row that publishes `token_revoked` on the revocations
  channel (retried by the outbox drain while the broker is away); one subscription per process
  closes the sockets of that token at once;
- a resync: when the broker reconnected, or the subscription was lost and made again, an
  announcement may have been missed, so every watched token is checked in the database;
- a periodic check: every WS_TOKEN_RECHECK_SECONDS each process checks the tokens of its open
  sockets in the database anyway, `RECHECK_BATCH` tokens per statement. This one bounds the time a
  revoked token's socket stays open, even with the broker down for good.

The database checks never go through the token cache (core/token_cache.py): the cache is what an
announcement would have corrected. A token found revoked is dropped from the cache as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any, Protocol

from starlette.websockets import WebSocket

from core.context import RequestContext, Services, Viewer
from resolvers.accounts.auth import live_tokens
from subscriptions import InvalidEvent, PubSubError, parse_event, revocations_channel

log = logging.getLogger("ephemera.ws")

TOKEN_REVOKED = (4403, "Token revoked")
RECHECK_BATCH = 500  # token ids per statement of a database check


class SocketContext(Protocol):
    """What the watch uses of a socket's context (server/ws.py's `SocketContext`): the socket imports
    the watch, not the other way round."""

    services: Services
    viewer: Viewer | None
    websocket: WebSocket | None
    watched_token: int | None


class TokenWatch:
    """One subscription to the revocations channel and one periodic check for every socket of the
    process, not a task and a channel per socket."""

    def __init__(self) -> None:
        self.sockets: dict[int, list[SocketContext]] = {}
        self.checks = 0  # database checks made (resyncs and periodic ones), for tests and logs
        self._tasks: list[asyncio.Task[None]] = []
        self._live: asyncio.Future[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    async def watch(self, ctx: SocketContext, token_id: int) -> None:
        """Returns once a revocation of `token_id` announced from then on closes `ctx`'s socket."""
        self.forget(ctx)
        ctx.watched_token = token_id
        self.sockets.setdefault(token_id, []).append(ctx)
        if self._live is None or any(task.done() for task in self._tasks):
            self._stop()
            live = self._live = asyncio.get_running_loop().create_future()
            self._tasks = [
                asyncio.create_task(self._subscribe(ctx.services, live), name="ws-token-watch"),
                asyncio.create_task(self._recheck(ctx.services), name="ws-token-recheck"),
            ]
        await asyncio.shield(self._live)

    def forget(self, ctx: RequestContext | SocketContext) -> None:
        token_id = getattr(ctx, "watched_token", None)
        if token_id is None:
            return
        ctx.watched_token = None  # type: ignore[union-attr]
        watched = self.sockets.get(token_id, [])
        for n, other in enumerate(watched):
            if other is ctx:
                del watched[n]
                break
        if token_id in self.sockets and not watched:
            del self.sockets[token_id]
        if not self.sockets:
            self._stop()  # no socket left to watch for

    def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks, self._live = [], None

    async def check(self, services: Services) -> None:
        """Close the sockets whose token the database says is revoked or expired."""
        self.checks += 1
        watched = list(self.sockets)
        for start in range(0, len(watched), RECHECK_BATCH):
            batch = watched[start : start + RECHECK_BATCH]
            live = await live_tokens(services, batch)
            for token_id in batch:
                if token_id not in live:
                    services.tokens.revoke(token_id)
                    self._close(token_id)

    async def _recheck(self, services: Services) -> None:
        interval = timedelta(seconds=services.settings.ws_token_recheck_seconds)
        while True:
            await services.clock.sleep_until(services.clock.now() + interval)
            try:
                await self.check(services)
            except Exception:
                log.warning("checking the tokens of open sockets failed; trying again later", exc_info=True)

    async def _subscribe(self, services: Services, live: asyncio.Future[None]) -> None:
        try:
            while True:
                try:
                    async with services.pubsub.subscribe(revocations_channel()) as subscription:
                        if live.done():  # subscribed again: what was announced meanwhile is lost
                            await self._resync(services)
                        else:
                            live.set_result(None)
                        async for message in subscription:
                            await self._handle(services, message.event)
                    return  # the pub/sub closed: the process is stopping
                except PubSubError:
                    log.warning("token watch lost its subscription; subscribing again", exc_info=True)
                    await asyncio.sleep(0.1)
        except Exception:
            log.exception("token watch failed; closing the sockets it watched")
            for token_id in list(self.sockets):
                self._close(token_id)
        finally:
            if not live.done():
                live.set_result(None)

    async def _handle(self, services: Services, data: dict[str, Any]) -> None:
        try:
            event = parse_event(data)
        except InvalidEvent:
            return
        if event["type"] == "token_revoked":
            self._close(event["token_id"])
        elif event["type"] == "resync":
            await self._resync(services)

    async def _resync(self, services: Services) -> None:
        # The token cache has its own subscription and may not have seen the resync yet.
        services.tokens.clear()
        try:
            await self.check(services)
        except Exception:
            log.warning("checking tokens after a resync failed; the periodic check follows", exc_info=True)

    def _close(self, token_id: int) -> None:
        """Each socket closes in a task of its own: one slow to write waits alone."""
        for ctx in list(self.sockets.get(token_id, ())):
            self.forget(ctx)
            ctx.viewer = None
            if ctx.websocket is not None:
                task = asyncio.create_task(close(ctx.websocket, TOKEN_REVOKED))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)


async def close(websocket: WebSocket, code_and_reason: tuple[int, str]) -> None:
    with contextlib.suppress(RuntimeError, OSError):
        await websocket.close(*code_and_reason)
