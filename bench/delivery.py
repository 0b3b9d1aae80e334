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
server's CPU while idle, and send-to-receipt p50/p99. The server runs under bench/probed_server.py,
which adds the Python objects the collector tracks per socket (across the N opens and the idle
window) and the longest stall of its event loop (a monitor task's lateness) with the full
collections, while opening, while idle and while sending. With --tracemalloc FRAMES it also runs
under tracemalloc and the report adds the allocations that grew across the N opens, per
subscription: profiling slows the server, so its other figures are not comparable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from bench.common import ADMIN_URL
from bench.delivery_clients import (
    Subscriber,
    open_all,
    open_subscriber,
    percentile,
    redis_floor,
    subscriptions_active,
    wait_until_live,
    wait_until_quiet,
)
from bench.delivery_setup import (
    ROOT,
    ProbedServer,
    cpu_seconds,
    create_database,
    drop_database,
    free_port,
    growth,
    own_cpu_seconds,
    raise_file_limit,
    rss_kib,
    seed_users,
    server_env,
)
from core.ids import to_global_id
from subscriptions import user_channel

SEND = """mutation($cid: ID!, $c: String!) {
  sendMessage(input: {conversationId: $cid, body: "ping", clientId: $c}) { seq } }"""
FULL_COLLECTIONS = ("full_collections", "full_collection_seconds", "longest_full_collection_ms")
START = "mutation($id: ID!) { startConversation(input: {memberIds: [$id]}) { id } }"


def per_socket(before: dict[str, Any], after: dict[str, Any], count: int, top: int = 25) -> dict[str, float]:
    """The types whose unfrozen objects grew most across the opens, per socket."""
    grown = {
        name: (number - before["unfrozen_types"].get(name, 0)) / count
        for name, number in after["unfrozen_types"].items()
    }
    return {name: round(n, 1) for name, n in sorted(grown.items(), key=lambda item: -item[1])[:top] if n > 0}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_file_limit()
    name, db_url = await create_database(args.database, args.database_prefix)
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
        if args.no_freeze:
            env["BENCH_NO_FREEZE"] = "1"
        command = ["-m", "bench.probed_server", "serve"]
        if args.tracemalloc:
            command = ["-X", f"tracemalloc={args.tracemalloc}", *command]
        env["BENCH_SNAPSHOTS"] = env["BENCH_PROBES"] = str(work)
        server = await asyncio.create_subprocess_exec(
            sys.executable, *command, cwd=ROOT, env=env, stdout=log, stderr=log
        )
        probed = ProbedServer(server.pid, work)
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
            before = await probed.snapshot() if args.tracemalloc else None
            rss_before, cpu_before = rss_kib(server.pid), cpu_seconds(server.pid)
            probe_before = await probed.probe()
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
            probe_open = await probed.probe()
            cpu_open = cpu_seconds(server.pid)  # the probe's own walk of the heap is not idle work

            health: list[float] = []
            idle_until = time.monotonic() + args.idle_seconds
            while time.monotonic() < idle_until:
                probe = time.perf_counter()
                assert (await http.get("/healthz")).status_code == 200
                health.append((time.perf_counter() - probe) * 1000)
                await asyncio.sleep(max(0.0, min(1.0, idle_until - time.monotonic())))
            rss_idle, cpu_idle = rss_kib(server.pid), cpu_seconds(server.pid)
            idle_window = args.idle_seconds + (time.monotonic() - idle_until)
            probe_idle = await probed.probe()
            after = await probed.snapshot() if args.tracemalloc else None
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
            probe_sent = await probed.probe()
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
        "objects_per_socket": round((probe_idle["objects"] - probe_before["objects"]) / count, 1),
        "objects": {
            "before": probe_before["objects"],
            "opened": probe_open["objects"],
            "after_idle": probe_idle["objects"],
        },
        "frozen_objects": probe_idle["frozen"],
        "objects_per_socket_by_type": per_socket(probe_before, probe_idle, count),
        "longest_loop_stall_ms": {
            "opening": probe_open["longest_stall_ms"],
            "idle": probe_idle["longest_stall_ms"],
            "sending": probe_sent["longest_stall_ms"],
        },
        "full_collections": {
            phase: {key: probe[key] for key in FULL_COLLECTIONS}
            for phase, probe in (("opening", probe_open), ("idle", probe_idle), ("sending", probe_sent))
        },
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
    parser.add_argument(
        "--no-freeze", action="store_true", help="the server does not freeze sockets (to count them by type)"
    )
    parser.add_argument(
        "--pool", type=int, default=0, help="DATABASE_POOL_SIZE for the server (default: its own)"
    )
    parser.add_argument("--database-prefix", default="ephemera_bench", help="of the database's name")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
