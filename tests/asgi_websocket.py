"""One WebSocket session driven straight through an ASGI app, without a socket: for fuzzing frames
in process, where the network is not the point (tests/ws_client.py talks over a real socket)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message

PROTOCOL = "graphql-transport-ws"


@dataclass
class Session:
    sent: list[Message] = field(default_factory=list)

    @property
    def close_code(self) -> int | None:
        closes = [message for message in self.sent if message["type"] == "websocket.close"]
        return int(closes[0].get("code", 1000)) if closes else None

    @property
    def messages(self) -> list[Any]:
        return [json.loads(m["text"]) for m in self.sent if m["type"] == "websocket.send" and m.get("text")]


async def websocket_session(app: ASGIApp, frames: list[str | bytes]) -> Session:
    """Connect, send the frames, then a ping; once its pong (or a close) shows every frame was
    handled, disconnect and wait for the app to finish. An exception in the app propagates."""
    session = Session()
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    handled = asyncio.Event()
    await inbox.put({"type": "websocket.connect"})
    for frame in [*frames, json.dumps({"type": "ping"})]:
        key = "bytes" if isinstance(frame, bytes) else "text"
        await inbox.put({"type": "websocket.receive", key: frame})

    async def receive() -> Message:
        return await inbox.get()

    async def send(message: Message) -> None:
        session.sent.append(message)
        pong = message["type"] == "websocket.send" and '"pong"' in (message.get("text") or "")
        if pong or message["type"] == "websocket.close":
            handled.set()

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"sec-websocket-protocol", PROTOCOL.encode())],
        "subprotocols": [PROTOCOL],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    task = asyncio.ensure_future(app(scope, receive, send))
    waiter = asyncio.create_task(handled.wait())
    try:
        async with asyncio.timeout(10):
            await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
            await inbox.put({"type": "websocket.disconnect", "code": 1000})
            await task
    finally:
        waiter.cancel()
    return session
