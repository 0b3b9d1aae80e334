"""sendMessage at C concurrent clients beside its floor, with N idle subscribers connected.

    python -m bench.dm_send --clients 32 --subscribers 5000 --seconds 20

One server process (bench/served.py: production mode, PostgreSQL, Redis). C senders each talk to
their own recipient in a 1:1 conversation; the recipients and N idle users hold a
`conversationEvents` subscription each (so every send is delivered, over Redis, to a live socket).
Once the server is quiet, the C clients send `sendMessage` back to back for --seconds over HTTP.

The floor is the same work written by hand, C at a time (on as many connections as the server's
pool has, with --pool): through asyncpg, in one transaction, the
conversation's next seq (UPDATE ... RETURNING) and the message's INSERT, then one PUBLISH through
redis-py (to a channel nobody reads, so that the floor does not make the server work).

It reports sends per second, p50 and p99 for both and their ratios (the issue's targets:
sendMessage >= 1/3 of the floor's throughput, p99 <= 3x its p50), the server process's CPU time
per send (its delivery to the recipient's subscription included), with the server's longest loop
stall and full collections while sending.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis

from bench.common import ADMIN_URL, dsn
from bench.delivery_clients import (
    Subscriber,
    open_all,
    percentile,
    wait_until_live,
    wait_until_quiet,
)
from bench.delivery_setup import cpu_seconds
from bench.served import Served, served
from core.ids import IdGenerator, from_global_id, to_global_id
from subscriptions import user_channel

SEND = """mutation($cid: ID!, $c: String!) {
  sendMessage(input: {conversationId: $cid, body: "ping", clientId: $c}) { seq } }"""
START = "mutation($id: ID!) { startConversation(input: {memberIds: [$id]}) { id } }"
NEXT_SEQ = """UPDATE conversations SET last_seq = last_seq + 1, last_message_id = $2, activity_id = $2,
  updated_at = $3 WHERE id = $1 RETURNING last_seq"""
INSERT = """INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, body, sent_at)
  VALUES ($1, $2, $3, $4, $5, 'ping', $6)"""
FLOOR_NODE = 1023  # ids the server's node never hands out


def load_average() -> list[str]:
    """The machine's 1, 5 and 15 minute load averages."""
    return Path("/proc/loadavg").read_text().split()[:3]


async def timed(seconds: float, clients: int, send: Any) -> dict[str, Any]:
    """`clients` workers calling `send(worker, n)` back to back for `seconds`."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        n = 0
        while time.perf_counter() < stop:
            start = time.perf_counter()
            await send(index, n)
            latencies.append((time.perf_counter() - start) * 1000)
            n += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    return {
        "sends": len(latencies),
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": p50,
        "p99_ms": p99,
        "p99_over_p50": round(p99 / p50, 2),
    }


async def server_sends(
    args: argparse.Namespace, bench: Served, pairs: list[tuple[str, str]]
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=bench.base, timeout=60, limits=limits) as http:

        async def send(worker: int, n: int) -> None:
            token, cid = pairs[worker]
            body = {"query": SEND, "variables": {"cid": cid, "c": f"s{worker}-{n}"}}
            response = await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
            assert "errors" not in response.json(), response.text

        for worker in range(args.clients):  # warm every path first
            await send(worker, -1)
        return await timed(args.seconds, args.clients, send)


async def floor_sends(
    args: argparse.Namespace, bench: Served, pairs: list[tuple[int, int]]
) -> dict[str, Any]:
    size = min(args.clients, args.pool or args.clients)  # the server's pool, when it was given one
    pool = await asyncpg.create_pool(dsn(bench.db_url), min_size=size, max_size=size)
    redis = Redis.from_url(args.redis)
    ids = IdGenerator(FLOOR_NODE)
    try:

        async def send(worker: int, n: int) -> None:
            sender, cid = pairs[worker]
            message_id, now = ids.next_id(), datetime.now(UTC)
            async with pool.acquire() as conn, conn.transaction():
                seq = await conn.fetchval(NEXT_SEQ, cid, message_id, now)
                await conn.execute(INSERT, message_id, cid, seq, sender, f"f{worker}-{n}", now)
            event = {"type": "message_added", "conversation_id": cid, "message_id": message_id, "seq": seq}
            await redis.publish(f"bench:floor:{cid}", json.dumps(event))

        return await timed(args.seconds, args.clients, send)
    finally:
        await pool.close()
        await redis.aclose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    subscribers: list[Subscriber] = []
    async with served(args, 2 * args.clients + args.subscribers) as bench:
        senders, recipients = bench.users[: args.clients], bench.users[args.clients : 2 * args.clients]
        idle = bench.users[2 * args.clients :]
        redis = Redis.from_url(args.redis)
        try:
            async with httpx.AsyncClient(base_url=bench.base, timeout=60) as http:
                pairs, floor_pairs = [], []
                for (sender_id, token), (recipient_id, _) in zip(senders, recipients, strict=True):
                    started = await http.post(
                        "/graphql",
                        json={"query": START, "variables": {"id": to_global_id("User", recipient_id)}},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    cid = started.json()["data"]["startConversation"]["id"]
                    pairs.append((token, cid))
                    floor_pairs.append((sender_id, from_global_id(cid)[1]))  # type: ignore[index]
                listening = recipients + idle
                subscribers = await open_all(bench.ws_url, [t for _, t in listening], args.open_concurrency)
                await wait_until_live(http, redis, len(listening), [user_channel(u) for u, _ in listening])
                await wait_until_quiet(bench.process.pid)
            await bench.probed.probe()
            report: dict[str, Any] = {"clients": args.clients, "idle_subscribers": args.subscribers}
            report["load_average"] = load_average()
            cpu_before = cpu_seconds(bench.process.pid)
            report["sendMessage"] = await server_sends(args, bench, pairs)
            # The server's CPU per send (the warm-up sends included: one per client).
            cpu = cpu_seconds(bench.process.pid) - cpu_before
            sent = report["sendMessage"]["sends"] + args.clients
            report["sendMessage"]["server_cpu_ms_per_send"] = round(cpu * 1000 / sent, 2)
            probe = await bench.probed.probe()
            report["server_while_sending"] = {
                key: probe[key]
                for key in ("longest_stall_ms", "full_collections", "longest_full_collection_ms")
            }
            await wait_until_quiet(bench.process.pid)
            report["floor"] = await floor_sends(args, bench, floor_pairs)
            report["throughput_of_floor"] = round(
                report["sendMessage"]["per_second"] / report["floor"]["per_second"], 3
            )
        finally:
            await asyncio.gather(*(s.close() for s in subscribers), return_exceptions=True)
            await redis.aclose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent senders (default 32)")
    parser.add_argument("--subscribers", type=int, default=5000, help="idle subscriptions (default 5000)")
    parser.add_argument("--seconds", type=float, default=20, help="timed window for each side (default 20)")
    parser.add_argument("--open-concurrency", type=int, default=100, help="subscriptions opened at once")
    parser.add_argument("--keepalive", type=int, default=0, help="WS_KEEPALIVE_SECONDS for the server")
    parser.add_argument("--database", default=ADMIN_URL, help="PostgreSQL to create the database on")
    parser.add_argument(
        "--pool", type=int, default=0, help="DATABASE_POOL_SIZE for the server (default: its own)"
    )
    parser.add_argument("--database-prefix", default="ephemera_bench", help="of the database's name")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
