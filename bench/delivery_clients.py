"""bench.delivery's clients: graphql-transport-ws subscribers that answer pings, and the signals
the bench waits on instead of sleeping (the server's gauge, Redis's subscriber counts, quiet CPU)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Any

import httpx
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.delivery_setup import METRICS_AUTH, cpu_seconds

SUBSCRIBE = "subscription { conversationEvents { ... on MessageAdded { message { seq } } } }"
PONG = json.dumps({"type": "pong"})


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 2)


class Subscriber:
    """One graphql-transport-ws client: answers `ping` with `pong`; every other frame is queued."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.pings = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                message = json.loads(raw)
                if message.get("type") == "ping":
                    self.pings += 1
                    await self.ws.send(PONG)
                elif message.get("type") != "pong":
                    self.frames.put_nowait(message)

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


async def open_subscriber(url: str, token: str) -> Subscriber:
    ws = await connect(url, subprotocols=["graphql-transport-ws"], open_timeout=60, ping_interval=None)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    ack = json.loads(await ws.recv())
    assert ack["type"] == "connection_ack", ack
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return Subscriber(ws)


async def open_all(url: str, tokens: list[str], concurrency: int) -> list[Subscriber]:
    pending = iter(tokens)
    opened: list[Subscriber] = []

    async def worker() -> None:
        for token in pending:
            opened.append(await open_subscriber(url, token))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return opened


async def subscriptions_active(http: httpx.AsyncClient) -> float:
    return gauge((await http.get("/metrics", headers=METRICS_AUTH)).text, "ephemera_subscriptions_active")


def gauge(metrics: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def wait_until_live(http: httpx.AsyncClient, redis: Redis, expected: int, channels: list[str]) -> None:
    """Until the server counts `expected` active subscriptions and Redis a subscriber on each channel."""
    async with asyncio.timeout(300):
        while True:  # polled: the server has no push signal for it
            if await subscriptions_active(http) == expected:
                break
            await asyncio.sleep(0.05)
        missing = channels
        while missing:
            counts: list[Any] = []
            for start in range(0, len(missing), 1000):
                counts += await redis.pubsub_numsub(*missing[start : start + 1000])
            missing = [channel.decode() for channel, count in counts if count < 1]
            await asyncio.sleep(0.05 if missing else 0)


async def wait_until_quiet(pid: int, window: float = 2.0, busy: float = 0.5) -> float:
    """When the server went quiet: the start of the first `window` in which it used less than
    `busy` of a core (what it still had to do for the sockets opened is done; opening keeps it
    near a whole core; 10,000 idle sockets took 38%)."""
    samples = [(time.perf_counter(), cpu_seconds(pid))]
    async with asyncio.timeout(600):
        while True:
            await asyncio.sleep(0.25)
            samples.append((time.perf_counter(), cpu_seconds(pid)))
            start = next((s for s in reversed(samples) if samples[-1][0] - s[0] >= window), None)
            if start is not None and samples[-1][1] - start[1] < busy * (samples[-1][0] - start[0]):
                return start[0]


async def redis_floor(redis_url: str, samples: int) -> list[float]:
    publisher, subscriber = Redis.from_url(redis_url), Redis.from_url(redis_url)
    pubsub = subscriber.pubsub()
    await pubsub.subscribe("bench:floor")
    await pubsub.get_message(timeout=1)
    rtts = []
    for _ in range(samples):
        start = time.perf_counter()
        await publisher.publish("bench:floor", "x")
        while (await pubsub.get_message(timeout=1)) is None:
            pass
        rtts.append((time.perf_counter() - start) * 1000)
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    await publisher.aclose()
    await subscriber.aclose()
    return rtts
