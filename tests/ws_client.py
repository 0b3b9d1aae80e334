"""A small graphql-transport-ws client over a real WebSocket (the `websockets` library)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"


class GraphQLSocket:
    """One connection: messages of each operation are queued by id; the rest go to `other`."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.other: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def init(self, token: str | None, wait: float = 5) -> dict[str, Any]:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await self.send({"type": "connection_init", "payload": payload})
        ack = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
        assert ack["type"] == "connection_ack", ack
        self._reader = asyncio.create_task(self._read())
        return dict(ack)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                queue = self._queues.get(message.get("id", ""))
                await (queue if queue is not None else self.other).put(message)
        except ConnectionClosed:
            pass

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        return await self.subscribe_payload({"query": query, "variables": variables or {}})

    async def subscribe_payload(self, payload: dict[str, Any]) -> str:
        """Subscribe with any payload (a documentId, APQ extensions); the operation's id."""
        op_id = str(next(self._ids))
        self._queues[op_id] = asyncio.Queue()
        await self.send({"id": op_id, "type": "subscribe", "payload": payload})
        return op_id

    async def message(self, op_id: str, wait: float = 5) -> dict[str, Any]:
        """The next message of an operation: next, error or complete."""
        return await asyncio.wait_for(self._queues[op_id].get(), wait)

    async def next(self, op_id: str, wait: float = 5) -> dict[str, Any]:
        """The data of the next `next` message; fails on anything else."""
        message = await self.message(op_id, wait)
        assert message["type"] == "next" and not message["payload"].get("errors"), message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def nothing(self, op_id: str, wait: float = 0.3) -> None:
        """No message for this operation within `wait` seconds."""
        try:
            message = await asyncio.wait_for(self._queues[op_id].get(), wait)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {message}")

    async def complete(self, op_id: str) -> None:
        await self.send({"id": op_id, "type": "complete"})

    async def closed(self, wait: float = 5) -> tuple[int | None, str | None]:
        """Wait for the server to close the socket: (code, reason)."""
        await asyncio.wait_for(self.ws.wait_closed(), wait)
        return self.ws.close_code, self.ws.close_reason

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self.ws.close()


@asynccontextmanager
async def graphql_socket(
    url: str, token: str | None = None, *, init: bool = True
) -> AsyncIterator[GraphQLSocket]:
    async with connect(url, subprotocols=[PROTOCOL], open_timeout=5, max_queue=None) as ws:  # type: ignore[list-item]
        socket = GraphQLSocket(ws)
        try:
            if init:
                await socket.init(token)
            yield socket
        finally:
            await socket.aclose()
