"""PubSub over Redis: across instances, across a Redis restart, and a half-open connection.

Uses the shared Redis at TEST_REDIS_URL (default redis://127.0.0.1:6379/15) and private
redis-server processes on free loopback ports. Without them the tests skip, unless
CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlparse

import pytest
from broadcaster import Broadcast
from redis.asyncio import Redis
from redis.exceptions import RedisError

from subscriptions import Message, PublishFailed, PubSub, ResilientRedisBackend, Subscription
from tests.services import redis_url

# Same variable and default as the rest of the suite (tests/services.py); "" or "skip" opts out.
SHARED_REDIS_URL = redis_url() or ""


def _unavailable(reason: str) -> NoReturn:
    # In CI a missing Redis is a broken environment, not a reason to go green.
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true requires it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
async def shared_redis_url() -> str:
    if SHARED_REDIS_URL in ("", "skip"):
        _unavailable("Redis disabled by TEST_REDIS_URL")
    client = Redis.from_url(SHARED_REDIS_URL, socket_connect_timeout=1.0)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        _unavailable(f"no Redis at {SHARED_REDIS_URL}: {exc}")
    finally:
        await client.aclose()
    return SHARED_REDIS_URL


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RedisProcess:
    """A private redis-server on a fixed loopback port that a test may kill and restart."""

    executable: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 5.0) -> None:
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not come up on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    executable = shutil.which("redis-server")
    if executable is None:
        _unavailable("redis-server is not on PATH")
    server = RedisProcess(executable, free_port())
    try:
        yield server
    finally:
        server.stop()


def unique_channel() -> str:
    # The shared Redis may serve other test runs at the same time.
    return f"test:{uuid.uuid4().hex}"


async def next_message(subscription: Subscription, wait: float = 2.0) -> Message:
    return await asyncio.wait_for(anext(subscription), wait)


async def numsub(url: str, channel: str) -> int:
    client = Redis.from_url(url)
    try:
        [(_, count)] = await client.pubsub_numsub(channel)
        return int(count)
    finally:
        await client.aclose()


async def drain(subscription: Subscription, into: list[dict[str, Any]], quiet: float) -> None:
    with contextlib.suppress(TimeoutError):
        while True:
            into.append((await next_message(subscription, quiet)).event)


async def test_two_instances_deliver_in_order(shared_redis_url: str) -> None:
    channel = unique_channel()
    async with PubSub(shared_redis_url) as server_a, PubSub(shared_redis_url) as server_b:
        async with server_a.subscribe(channel) as sub:
            for n in range(200):
                await server_b.publish(channel, {"n": n})
            received = [(await next_message(sub)).event["n"] for _ in range(200)]
        assert received == list(range(200))
        assert (server_b.published, server_a.delivered) == (200, 200)


async def test_one_redis_subscription_per_channel(shared_redis_url: str) -> None:
    channel, other = unique_channel(), unique_channel()
    async with PubSub(shared_redis_url) as hub:
        async with hub.subscribe(channel) as first, hub.subscribe(channel, other) as second:
            # subscribe() returns only once Redis confirmed the SUBSCRIBE.
            assert await numsub(shared_redis_url, channel) == 1
            assert await numsub(shared_redis_url, other) == 1
            await hub.publish(channel, {"n": 1})
            assert await next_message(first) == Message(channel, {"n": 1})
            assert await next_message(second) == Message(channel, {"n": 1})
        for _ in range(50):  # UNSUBSCRIBE is not awaited for confirmation
            if await numsub(shared_redis_url, channel) == 0 and await numsub(shared_redis_url, other) == 0:
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("channels still subscribed in Redis after every subscriber left")


async def test_backend_plugs_into_broadcaster(shared_redis_url: str) -> None:
    channel = unique_channel()
    async with (
        Broadcast(backend=ResilientRedisBackend(shared_redis_url)) as broadcast,
        broadcast.subscribe(channel) as subscriber,
    ):
        await broadcast.publish(channel, "hello")
        event = await asyncio.wait_for(subscriber.get(), 2)
        assert (event.channel, event.message) == (channel, "hello")


async def test_connect_fails_fast_without_redis() -> None:
    backend = ResilientRedisBackend(f"redis://127.0.0.1:{free_port()}/0", connect_timeout=0.5)
    with pytest.raises((RedisError, OSError)):
        await backend.connect()


async def test_subscription_survives_redis_restart(redis_process: RedisProcess) -> None:
    redis_process.start()
    backend = ResilientRedisBackend(redis_process.url, backoff_initial=0.02, backoff_max=0.2)
    loop = asyncio.get_running_loop()
    async with PubSub(redis_process.url, backend=backend) as hub, hub.subscribe("user:1") as sub:
        await hub.publish("user:1", {"type": "probe", "n": 0})
        assert await next_message(sub) == Message("user:1", {"type": "probe", "n": 0})

        redis_process.stop()
        with pytest.raises(PublishFailed, match="user:1"):
            await hub.publish("user:1", {"type": "probe", "n": -1})
        redis_process.start()

        received: list[dict[str, Any]] = []
        deadline = loop.time() + 10
        n = 0
        while not any(event["type"] == "probe" for event in received):
            assert loop.time() < deadline, f"no live delivery 10 s after the restart: {received}"
            n += 1
            with contextlib.suppress(PublishFailed):  # the publisher may need a moment too
                await hub.publish("user:1", {"type": "probe", "n": n})
            await drain(sub, received, quiet=0.1)

        assert backend.reconnects == 1
        # Subscribers learn that events may have been lost, before the first new one.
        assert received[0] == {"type": "resync"}
        probes = [event["n"] for event in received if event["type"] == "probe"]
        assert probes == sorted(probes) and probes[0] >= 1


class FreezingProxy:
    """TCP proxy to Redis that can turn its open connections into black holes,
    like a peer that vanished without a FIN or RST (a network partition)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._frozen: set[asyncio.StreamWriter] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> FreezingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await self._server.wait_closed()

    def freeze(self) -> None:
        self._frozen |= self._writers

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(self.target_host, self.target_port)
        self._writers |= {client_writer, upstream_writer}
        for reader, writer in ((client_reader, upstream_writer), (upstream_reader, client_writer)):
            task = asyncio.create_task(self._pipe(reader, writer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if writer not in self._frozen:
                    writer.write(data)
                    await writer.drain()


async def test_half_open_connection_is_detected(shared_redis_url: str) -> None:
    channel = unique_channel()
    target = urlparse(shared_redis_url)
    async with FreezingProxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        url = f"redis://127.0.0.1:{proxy.port}/0"
        backend = ResilientRedisBackend(url, ping_interval=0.1, ping_timeout=0.2, backoff_initial=0.02)
        async with PubSub(url, backend=backend) as hub, hub.subscribe(channel) as sub:
            await hub.publish(channel, {"n": 0})
            assert (await next_message(sub)).event == {"n": 0}

            proxy.freeze()  # the pub/sub connection now silently swallows everything
            async with PubSub(shared_redis_url) as direct:
                received: list[dict[str, Any]] = []
                for n in range(1, 60):
                    await direct.publish(channel, {"n": n})
                    await drain(sub, received, quiet=0.05)
                    if any("n" in event for event in received):
                        break
            assert backend.reconnects == 1
            assert received[0] == {"type": "resync"}
            assert [event["n"] for event in received[1:]] == sorted(event["n"] for event in received[1:])


async def test_a_subscriber_cancelled_while_it_subscribes_ends(shared_redis_url: str) -> None:
    """A socket closing (or a process stopping) the instant it subscribed: the Redis client can
    swallow that cancellation mid-SUBSCRIBE, and the subscriber then waited forever."""
    async with PubSub(shared_redis_url) as pubsub:

        async def subscriber() -> None:
            async with pubsub.subscribe(f"cancelled:{uuid.uuid4().hex}") as subscription:
                async for _ in subscription:
                    pass

        for _ in range(5):
            task = asyncio.create_task(subscriber())
            await asyncio.sleep(0)  # it starts, and is inside SUBSCRIBE when cancelled
            task.cancel()
            done, _ = await asyncio.wait([task], timeout=5)
            assert done and task.cancelled()
