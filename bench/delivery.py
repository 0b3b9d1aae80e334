"""Idle subscriptions and message delivery on one server process over Redis.

    python -m bench.delivery --subscribers 1000 --messages 300

Starts the server as an operator would: a fresh PostgreSQL database migrated with
`python -m commands migrate`, then `python -m commands serve` with ENV=production, the local
Redis, a SECRET_KEY, and the mutation rate limits raised (MUTATIONS_PER_MINUTE_PER_USER and
_PER_ADDRESS) so that the timed sends are not refused. Then:

1. opens one watched subscriber and N idle graphql-transport-ws subscriptions (one user each,
   `conversationEvents` over all their conversations), OPEN_CONCURRENCY at a time; every client
   answers the server's keep-alive `ping` with `pong`, as graphql-ws clients do;
2. waits until the server says they are live: `ephemera_subscriptions_active` on /metrics equals
   the number opened and Redis counts a subscriber on each user's channel (PUBSUB NUMSUB); then
   until the server goes quiet (under 50% of a core for 2 s), as each subscription still reads
   its conversations after it is live;
3. holds them idle for --idle-seconds (two keep-alive intervals by default), reading the server's
   CPU time and probing /healthz once a second;
4. times --messages sends from one user to the watched subscriber: from the `sendMessage` request
   to the `MessageAdded` frame;
5. measures the raw Redis PUBLISH -> subscriber round trip, as the floor.

It reports KiB per idle subscription (server RSS after the idle window minus before the N opened,
/ N), subscription opens per second (N / time from the first connect to quiet), CPU per open
(server's and this client's: on a shared machine opens per second follows the CPU it gets), the
server's CPU while idle, and send-to-receipt p50/p99. With --tracemalloc FRAMES the server runs under
tracemalloc (bench/traced_server.py) and the report adds the allocations that grew across the N
opens, per subscription: profiling slows the server, so its other figures are not comparable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.common import ADMIN_URL
from core.database import Database
from core.ids import IdGenerator, to_global_id
from models import AuthToken, User
from resolvers.accounts.auth import TOKEN_PREFIX, token_hash
from subscriptions import user_channel

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIBE = "subscription { conversationEvents { ... on MessageAdded { message { seq } } } }"
SEND = """mutation($cid: ID!, $c: String!) {
  sendMessage(input: {conversationId: $cid, body: "ping", clientId: $c}) { seq } }"""
START = "mutation($id: ID!) { startConversation(input: {memberIds: [$id]}) { id } }"
PONG = json.dumps({"type": "pong"})
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 2)


def raise_file_limit() -> None:
    """For the client's sockets; the server inherits it too."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def create_database(admin_url: str) -> tuple[str, str]:
    name = f"ephemera_bench_{uuid.uuid4().hex[:8]}"
    url = make_url(admin_url)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, database="postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return name, url.set(database=name).render_as_string(hide_password=False)


async def drop_database(admin_url: str, name: str) -> None:
    url = make_url(admin_url)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, database="postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def seed_users(db_url: str, count: int) -> list[tuple[int, str]]:
    """Users with tokens straight in the database: signing up thousands would time argon2."""
    ids, now = IdGenerator(1), datetime.now(UTC)
    users, tokens, result = [], [], []
    for n in range(count):
        user_id, token = ids.next_id(), TOKEN_PREFIX + secrets.token_urlsafe(32)
        users.append(
            {
                "id": user_id,
                "username": f"bench{n}",
                "display_name": f"bench{n}",
                "bio": "",
                "is_private": False,
                "password_hash": "-",
                "created_at": now,
                "last_active_at": now,
            }
        )
        tokens.append(
            {
                "id": ids.next_id(),
                "user_id": user_id,
                "token_hash": token_hash(token),
                "created_at": now,
                "expires_at": now + timedelta(days=1),
            }
        )
        result.append((user_id, token))
    db = Database.open(db_url)
    async with db.write() as session:
        await session.execute(insert(User), users)
        await session.execute(insert(AuthToken), tokens)
    await db.close()
    return result


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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


# Production serves /metrics on PORT only to this token (METRICS_TOKEN).
METRICS_TOKEN = secrets.token_urlsafe(24)
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


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


def server_env(args: argparse.Namespace, db_url: str, port: int, data_dir: str) -> dict[str, str]:
    """What an operator sets for one production process, with the mutation limits raised."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "WS_"))}
    return env | {
        "ENV": "production",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": db_url,
        "REDIS_URL": args.redis,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "METRICS_TOKEN": METRICS_TOKEN,
        "DATA_DIR": data_dir,
        "WEB_CONCURRENCY": "1",
        "MUTATIONS_PER_MINUTE_PER_USER": "1000000",
        "MUTATIONS_PER_MINUTE_PER_ADDRESS": "1000000",
        **({"WS_KEEPALIVE_SECONDS": str(args.keepalive)} if args.keepalive else {}),
    }


class TracedServer:
    """Snapshots of a server started by bench/traced_server.py: SIGUSR1 asks, a file answers."""

    def __init__(self, pid: int, directory: Path) -> None:
        self.pid, self.directory, self.count = pid, directory, 0

    async def snapshot(self) -> tracemalloc.Snapshot:
        self.count += 1
        path = self.directory / f"snapshot-{self.count}"
        os.kill(self.pid, signal.SIGUSR1)
        for _ in range(6000):  # a snapshot of a big heap takes minutes
            if path.exists():
                break
            await asyncio.sleep(0.1)
        return tracemalloc.Snapshot.load(str(path))


def _site(frame: tracemalloc.Frame) -> str:
    name = frame.filename
    for prefix in (str(ROOT) + "/", "site-packages/", "lib/python3.11/"):
        name = name.split(prefix, 1)[-1]
    return f"{name}:{frame.lineno}"


def growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, count: int, top: int) -> dict[str, Any]:
    """What grew across `count` opens, per subscription: by file, and by the line that allocated
    (with the lines that called it), biggest first."""
    by_file = after.compare_to(before, "filename")
    by_line = after.compare_to(before, "traceback")
    return {
        "traced_kib_per_subscription": round(sum(stat.size_diff for stat in by_file) / count / 1024, 1),
        "by_file": [
            f"{stat.size_diff / count:7.0f} B {stat.count_diff / count:5.1f} blocks  "
            + _site(stat.traceback[0]).rsplit(":", 1)[0]
            for stat in by_file[:top]
            if stat.size_diff > 0
        ],
        "by_line": [
            f"{stat.size_diff / count:7.0f} B {stat.count_diff / count:5.1f} blocks  "
            + " <- ".join(_site(frame) for frame in reversed(stat.traceback[-3:]))
            for stat in by_line[:top]
            if stat.size_diff > 0
        ],
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_file_limit()
    name, db_url = await create_database(args.database)
    work = Path(tempfile.mkdtemp(prefix="ephemera-delivery-"))
    port = free_port()
    env = server_env(args, db_url, port, str(work / "data"))
    redis = Redis.from_url(args.redis)
    await redis.flushdb()
    log = (work / "server.log").open("wb")
    server: asyncio.subprocess.Process | None = None
    subscribers: list[Subscriber] = []
    try:
        migrate = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "commands", "migrate", cwd=ROOT, env=env, stdout=log, stderr=log
        )
        if await migrate.wait() != 0:
            raise RuntimeError(f"migrate failed: see {work / 'server.log'}")
        users = await seed_users(db_url, args.subscribers + 2)
        if args.tracemalloc:
            command = ["-X", f"tracemalloc={args.tracemalloc}", "-m", "bench.traced_server", "serve"]
            env["BENCH_SNAPSHOTS"] = str(work)
        else:
            command = ["-m", "commands", "serve"]
        server = await asyncio.create_subprocess_exec(
            sys.executable, *command, cwd=ROOT, env=env, stdout=log, stderr=log
        )
        traced = TracedServer(server.pid, work) if args.tracemalloc else None
        base = f"http://127.0.0.1:{port}"
        url = f"ws://127.0.0.1:{port}/graphql"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while True:
                if server.returncode is not None:
                    raise RuntimeError(f"the server exited: see {work / 'server.log'}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            (_, alice), (bob_id, bob) = users[0], users[1]
            headers = {"Authorization": f"Bearer {alice}"}
            started = await http.post(
                "/graphql",
                json={"query": START, "variables": {"id": to_global_id("User", bob_id)}},
                headers=headers,
            )
            cid = started.json()["data"]["startConversation"]["id"]
            # The watched subscriber first: it warms every code path the idle ones take.
            watched = await open_subscriber(url, bob)
            subscribers.append(watched)
            await wait_until_live(http, redis, 1, [user_channel(bob_id)])
            before = await traced.snapshot() if traced else None
            rss_before, cpu_before = rss_kib(server.pid), cpu_seconds(server.pid)
            client_before = own_cpu_seconds()

            idle = users[2:]
            opening = time.perf_counter()
            subscribers += await open_all(url, [token for _, token in idle], args.open_concurrency)
            sent = time.perf_counter() - opening
            await wait_until_live(http, redis, args.subscribers + 1, [user_channel(uid) for uid, _ in idle])
            live = time.perf_counter() - opening
            # Live is not done: each subscription still reads its conversations' last seqs.
            settled = await wait_until_quiet(server.pid) - opening
            rss_open, cpu_open = rss_kib(server.pid), cpu_seconds(server.pid)
            client_open = own_cpu_seconds()

            health: list[float] = []
            idle_until = time.monotonic() + args.idle_seconds
            while time.monotonic() < idle_until:
                probe = time.perf_counter()
                assert (await http.get("/healthz")).status_code == 200
                health.append((time.perf_counter() - probe) * 1000)
                await asyncio.sleep(max(0.0, min(1.0, idle_until - time.monotonic())))
            rss_idle, cpu_idle = rss_kib(server.pid), cpu_seconds(server.pid)
            idle_window = args.idle_seconds + (time.monotonic() - idle_until)
            after = await traced.snapshot() if traced else None
            still_open = await subscriptions_active(http)
            pings = sum(subscriber.pings for subscriber in subscribers)

            latencies, from_request = [], []
            for n in range(args.messages):
                body = {"query": SEND, "variables": {"cid": cid, "c": f"b{n}"}}
                start = time.perf_counter()
                response = await http.post("/graphql", json=body, headers=headers)
                answered = time.perf_counter()
                assert "errors" not in response.json(), response.text
                frame = await asyncio.wait_for(watched.frames.get(), 10)
                received = time.perf_counter()
                assert frame["type"] == "next", frame
                latencies.append((received - answered) * 1000)
                from_request.append((received - start) * 1000)
        floor = await redis_floor(args.redis, args.messages)
    finally:
        await asyncio.gather(*(subscriber.close() for subscriber in subscribers), return_exceptions=True)
        if server is not None and server.returncode is None:
            server.terminate()
            await server.wait()
        log.close()
        await redis.aclose()
        await drop_database(args.database, name)
    count = args.subscribers
    report: dict[str, Any] = {
        "subscribers": count,
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "messages": args.messages,
        "kib_per_idle_subscription": round((rss_idle - rss_before) / count, 1),
        "kib_per_subscription_when_opened": round((rss_open - rss_before) / count, 1),
        "rss_kib": {"before": rss_before, "opened": rss_open, "after_idle": rss_idle},
        "opens_per_second": round(count / settled, 1),
        "opens_per_second_to_live": round(count / live, 1),
        "open_seconds": {"client_done": round(sent, 2), "live": round(live, 2), "settled": round(settled, 2)},
        "server_cpu_ms_per_open": round((cpu_open - cpu_before) * 1000 / count, 2),
        "client_cpu_ms_per_open": round((client_open - client_before) * 1000 / count, 2),
        "idle_cpu_percent": round((cpu_idle - cpu_open) / idle_window * 100, 2),
        "idle_seconds": round(idle_window, 1),
        "keepalive_pings_answered": pings,
        "subscriptions_after_idle": int(still_open),
        "healthz_ms": {"p50": percentile(health, 50), "max": round(max(health), 2)},
        "send_to_receipt_ms": {"p50": percentile(from_request, 50), "p99": percentile(from_request, 99)},
        "after_response_ms": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)},
        "mean_send_to_receipt_ms": round(statistics.fmean(from_request), 2),
        "redis_floor_ms": {"p50": percentile(floor, 50), "p99": percentile(floor, 99)},
    }
    if before is not None and after is not None:
        report["tracemalloc"] = growth(before, after, count, args.top)
    shutil.rmtree(work)  # kept when the run failed: the server's log is there
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000, help="idle subscriptions (default 1000)")
    parser.add_argument("--messages", type=int, default=300, help="timed sends (default 300)")
    parser.add_argument(
        "--idle-seconds", type=float, default=35, help="idle window for CPU and memory (default 35)"
    )
    parser.add_argument(
        "--open-concurrency", type=int, default=100, help="subscriptions being opened at once (default 100)"
    )
    parser.add_argument(
        "--keepalive", type=int, default=0, help="WS_KEEPALIVE_SECONDS for the server (default: its own)"
    )
    parser.add_argument(
        "--tracemalloc", type=int, default=0, metavar="FRAMES", help="profile the server's allocations"
    )
    parser.add_argument("--top", type=int, default=25, help="allocation sites listed with --tracemalloc")
    parser.add_argument("--database", default=ADMIN_URL, help="PostgreSQL to create the database on")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
