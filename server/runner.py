"""Serving the app with uvicorn, closing GraphQL WebSockets with 1001 before uvicorn's own teardown."""

from __future__ import annotations

import asyncio
import importlib.util
import signal
import socket
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette

from server.ws import GraphQLWebSocket
from settings import Settings


class DrainingServer(uvicorn.Server):
    """On shutdown, closes GraphQL WebSockets with 1001 (going away) before uvicorn's (1012)."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self.on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.on_started is not None:
            self.on_started()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.app
        view = getattr(getattr(app, "state", None), "websockets", None)
        if isinstance(view, GraphQLWebSocket):
            await view.drain()
        await super().shutdown(sockets)


def event_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    """uvloop's runner when it is installed (uvicorn's `standard` extra), asyncio's otherwise: the
    same coroutine on a faster loop (docs/benchmarks.md, the request path)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def http_implementation() -> str:
    """httptools (a C parser) when it is installed, h11 otherwise."""
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


def server_config(app: Starlette, settings: Settings, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=http_implementation(),
        proxy_headers=True,
        ws="websockets-sansio",
        ws_max_size=settings.ws_max_message_bytes,
        # No permessage-deflate: its zlib state is ~50 KiB per socket, most of an idle
        # subscription's memory; GraphQL frames are small (docs/benchmarks.md, message delivery).
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=10,
        log_config=None,
        **options,
    )


def serve(app: Starlette, settings: Settings, sock: socket.socket, on_started: Callable[[], None]) -> None:
    """Serve on `sock` (bound already) until SIGINT or SIGTERM.

    The app's lifespan (opening the database, Redis, storage) runs here rather than inside uvicorn,
    so what it raises reaches the caller as itself, not as a traceback logged by uvicorn."""
    event_loop_runner()(_serve(app, settings, sock, on_started))


async def _serve(
    app: Starlette, settings: Settings, sock: socket.socket, on_started: Callable[[], None]
) -> None:
    server = DrainingServer(server_config(app, settings, lifespan="off"), on_started)
    async with app.router.lifespan_context(app):
        with _signals_deferred():
            await server.serve(sockets=[sock])


@contextmanager
def _signals_deferred() -> Iterator[None]:
    # uvicorn raises the signal that stopped it again once it has drained; caught here instead,
    # it lets the lifespan close the services before the process ends.
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
