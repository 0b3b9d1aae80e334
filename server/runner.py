"""Serving the app with uvicorn, closing GraphQL WebSockets with 1001 before uvicorn's own teardown."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette

from server.ws import GraphQLWebSocket
from settings import Settings


class DrainingServer(uvicorn.Server):
    """On shutdown, closes GraphQL WebSockets with 1001 (going away) before uvicorn's (1012)."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.app
        view = getattr(getattr(app, "state", None), "websockets", None)
        if isinstance(view, GraphQLWebSocket):
            await view.drain()
        await super().shutdown(sockets)


def server_config(app: Starlette, settings: Settings, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        ws="websockets-sansio",
        ws_max_size=settings.ws_max_message_bytes,
        timeout_graceful_shutdown=10,
        log_config=None,
        **options,
    )


def serve(app: Starlette, settings: Settings) -> None:
    DrainingServer(server_config(app, settings)).run()
