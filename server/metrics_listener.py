"""`/metrics` on a port of its own (METRICS_PORT, loopback by default), away from the public one.

A tiny HTTP/1.1 responder on asyncio streams: one request per connection, `GET /metrics` (or HEAD)
answered with the Prometheus text, anything else 404. Every worker of a host binds the port with
SO_REUSEPORT; whichever answers reports the whole host (server/routes.py adds the workers up).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST

Collect = Callable[[], Awaitable[bytes]]
READ_SECONDS = 5.0


class MetricsListener:
    def __init__(self, collect: Collect, host: str, port: int) -> None:
        self.collect = collect
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen; OSError when the port cannot be had (`problem` says it in one line)."""
        self._server = await asyncio.start_server(self._answer, self.host, self.port, reuse_port=True)

    def problem(self, exc: OSError) -> str:
        what = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be opened ({exc})"
        return f"METRICS_PORT {self.port} {what} on {self.host}: set METRICS_PORT to a free port"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_SECONDS)
            method, _, rest = head.partition(b" ")
            path = rest.partition(b" ")[0].partition(b"?")[0]
            if method in (b"GET", b"HEAD") and path == b"/metrics":
                status, media_type, body = "200 OK", CONTENT_TYPE_LATEST, await self.collect()
            else:
                status, media_type, body = (
                    "404 Not Found",
                    "text/plain",
                    b"Not found: this port serves /metrics\n",
                )
            headers = (
                f"HTTP/1.1 {status}\r\nContent-Type: {media_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(headers.encode() + (b"" if method == b"HEAD" else body))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
