"""Server keep-alive pings on graphql-transport-ws (strawberry pings only on the legacy protocol):
idle sockets stay open through proxies, and dead peers are noticed."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler


class KeepAliveHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    async def handle(self) -> None:
        pinger = asyncio.create_task(self._ping_forever())
        try:
            await super().handle()
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger

    async def _ping_forever(self) -> None:
        interval = float(getattr(self.view, "keep_alive_interval", None) or 15)
        while True:
            await asyncio.sleep(interval)
            if self.connection_acknowledged:
                with contextlib.suppress(Exception):
                    await self.send_message({"type": "ping"})
