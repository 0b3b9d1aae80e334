"""Delivery latency of sendMessage -> MessageAdded with many idle subscribers, over Redis.

    python -m bench.delivery --subscribers 1000 --messages 300

Starts one server process (uvicorn) on a fresh PostgreSQL database and the local Redis,
opens N idle graphql-transport-ws subscriptions (one user each, subscribed to all their
conversations), then times messages from one user to a watched subscriber: from the
sendMessage response to the MessageAdded frame. Also reports server memory per idle
subscription and, as the floor, the raw Redis PUBLISH -> subscriber round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import statistics
import sys
import time
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

from core.database import Database
from core.ids import IdGenerator, to_global_id
from migrations.runner import upgrade_to_head
from models import AuthToken, User
from resolvers.auth import TOKEN_PREFIX, token_hash

ROOT = Path(__file__).resolve().parent.parent
SERVE = """
import json, sys
from pathlib import Path
import uvicorn
from app import create_app
from settings import Settings
a = json.loads(sys.argv[1])
s = Settings(database_url=a["db"], redis_url=a["redis"], data_dir=Path(a["dir"]), secret_key="bench",
             host="127.0.0.1", port=a["port"], migrate_on_start=False, env="production")
uvicorn.run(create_app(s), host="127.0.0.1", port=a["port"], log_level="warning", ws="websockets-sansio",
            backlog=8192)
"""
SUBSCRIBE = "subscription { conversationEvents { ... on MessageAdded { message { seq } } } }"
SEND = """mutation($cid: ID!, $c: String!) {
  sendMessage(input: {conversationId: $cid, body: "ping", clientId: $c}) { seq } }"""
START = "mutation($id: ID!) { startConversation(input: {memberIds: [$id]}) { id } }"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def raise_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def create_database(admin_url: str) -> tuple[str, str]:
    name = f"ephemera_bench_{uuid.uuid4().hex[:8]}"
    url = make_url(admin_url)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, database="postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    db_url = url.set(database=name).render_as_string(hide_password=False)
    await upgrade_to_head(db_url)
    return name, db_url


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
    return 0


async def open_subscriber(url: str, token: str) -> ClientConnection:
    ws = await connect(url, subprotocols=["graphql-transport-ws"], open_timeout=60, ping_interval=None)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return ws


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


async def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_file_limit()
    name, db_url = await create_database(args.database)
    port = 18000 + os.getpid() % 1000
    await Redis.from_url(args.redis).flushdb()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVE,
        json.dumps({"db": db_url, "redis": args.redis, "dir": "/tmp/ephemera-bench", "port": port}),
        cwd=ROOT,
    )
    sockets: list[ClientConnection] = []
    try:
        users = await seed_users(db_url, args.subscribers + 1)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while True:
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            (_, alice), (bob_id, bob) = users[0], users[1]
            headers = {"Authorization": f"Bearer {alice}"}
            started = await http.post(
                "/graphql",
                json={"query": START, "variables": {"id": to_global_id("User", bob_id)}},
                headers=headers,
            )
            cid = started.json()["data"]["startConversation"]["id"]
            await asyncio.sleep(1)
            rss_before = rss_kib(server.pid)
            url = base.replace("http", "ws") + "/graphql"
            watched = await open_subscriber(url, bob)
            for start in range(0, args.subscribers - 1, 200):
                batch = users[2 + start : 2 + min(start + 200, args.subscribers - 1)]
                sockets += await asyncio.gather(*(open_subscriber(url, token) for _, token in batch))
            await asyncio.sleep(2)
            rss_after = rss_kib(server.pid)
            latencies, from_request = [], []
            for n in range(args.messages):
                body = {"query": SEND, "variables": {"cid": cid, "c": f"b{n}"}}
                sent = time.perf_counter()
                response = await http.post("/graphql", json=body, headers=headers)
                answered = time.perf_counter()
                assert "errors" not in response.json(), response.text
                frame = json.loads(await asyncio.wait_for(watched.recv(), 10))
                received = time.perf_counter()
                assert frame["type"] == "next", frame
                latencies.append((received - answered) * 1000)
                from_request.append((received - sent) * 1000)
            await watched.close()
        floor = await redis_floor(args.redis, args.messages)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        server.terminate()
        await server.wait()
        await drop_database(args.database, name)
    return {
        "subscribers": args.subscribers,
        "messages": args.messages,
        "after_response_ms": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)},
        "send_to_receipt_ms": {"p50": percentile(from_request, 50), "p99": percentile(from_request, 99)},
        "redis_floor_ms": {"p50": percentile(floor, 50), "p99": percentile(floor, 99)},
        "rss_kib": {"before": rss_before, "after": rss_after},
        "kib_per_idle_subscription": round((rss_after - rss_before) / args.subscribers, 1),
        "mean_after_response_ms": round(statistics.fmean(latencies), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--database", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
