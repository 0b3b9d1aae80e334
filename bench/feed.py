"""The feed over HTTP against the real server on PostgreSQL, pull and hybrid, beside a SQL floor.

    python -m bench.generate --users 10000 --posts 200000      # once: builds ephemera_bench
    python -m bench.feed --database ephemera_bench --users 10000

For each store the server runs as its own process (uvicorn, one worker). The same viewers ask
for their first feed page (`first` posts with author, media, likes) at 1 and at 32 concurrent
clients. The floor is that same page by one hand-written SQL query through asyncpg.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis

from bench.common import bench_url, dsn, token_for

FEED = """
query($first: Int) {
  feed(first: $first) {
    edges { cursor node { id caption likeCount viewerHasLiked createdAt
      author { id username } media { id url } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
FLOOR_SQL = """
WITH page AS (
  SELECT p.id, p.author_id, p.caption, p.like_count, p.created_at FROM posts p
  WHERE p.author_id = $1
     OR p.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1 AND state = 'accepted')
  ORDER BY p.id DESC LIMIT $2
)
SELECT page.*, u.username,
  (SELECT json_agg(json_build_object('id', m.id, 'key', m.storage_key) ORDER BY pm.position)
     FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id = page.id) AS media,
  EXISTS (SELECT 1 FROM post_likes l WHERE l.post_id = page.id AND l.user_id = $1) AS liked
FROM page JOIN users u ON u.id = page.author_id ORDER BY page.id DESC
"""

Call = Callable[[int], Awaitable[None]]


async def measure(call: Call, viewers: list[int], clients: int, requests: int) -> dict[str, float]:
    latencies: list[float] = []
    queue = iter(range(requests))

    async def client() -> None:
        for n in queue:
            start = time.perf_counter()
            await call(viewers[n % len(viewers)])
            latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "clients": clients,
        "requests": requests,
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "rps": round(requests / elapsed, 1),
    }


async def run_server(args: argparse.Namespace, redis_url: str | None) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": bench_url(args.database),
        "SECRET_KEY": "bench-secret",
        "DATA_DIR": str(Path(args.data_dir)),
        "FANOUT_THRESHOLD": str(args.threshold),
        "PORT": str(args.port),
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    command = [sys.executable, "-m", "uvicorn", "app:app", "--port", str(args.port)]
    server = await asyncio.create_subprocess_exec(
        *command, "--log-level", "warning", "--no-access-log", env=env
    )
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"http://127.0.0.1:{args.port}/readyz")).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


async def bench_store(
    args: argparse.Namespace, name: str, redis_url: str | None, viewers: list[int]
) -> list[Any]:
    if redis_url:
        redis = Redis.from_url(redis_url)
        await redis.flushdb()
        await redis.aclose()
    server = await run_server(args, redis_url)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{args.port}", limits=limits, timeout=60
        ) as http:

            async def call(viewer: int) -> None:
                headers = {"Authorization": f"Bearer {token_for(viewer)}"}
                response = await http.post(
                    "/graphql", json={"query": FEED, "variables": {"first": args.first}}, headers=headers
                )
                body = response.json()
                if "errors" in body:
                    raise RuntimeError(body["errors"])

            cold = await measure(call, viewers, 1, len(viewers))  # hybrid: builds every set from SQL
            results = [{"store": name, "phase": "cold", **cold}]
            for clients, requests in ((1, args.requests), (32, args.requests * 4)):
                results.append(
                    {"store": name, "phase": "warm", **await measure(call, viewers, clients, requests)}
                )
            return results
    finally:
        server.terminate()
        await server.wait()


async def bench_floor(args: argparse.Namespace, viewers: list[int]) -> list[Any]:
    pool = await asyncpg.create_pool(dsn(bench_url(args.database)), min_size=32, max_size=32)
    ids = {row["username"]: row["id"] for row in await pool.fetch("SELECT id, username FROM users")}

    async def call(viewer: int) -> None:
        await pool.fetch(FLOOR_SQL, ids[f"u{viewer}"], args.first)

    try:
        results = []
        for clients, requests in ((1, args.requests), (32, args.requests * 4)):
            results.append(
                {"store": "sql-floor", "phase": "warm", **await measure(call, viewers, clients, requests)}
            )
        return results
    finally:
        await pool.close()


async def bench(args: argparse.Namespace) -> list[Any]:
    viewers = random.Random(args.seed).sample(range(args.users), min(args.viewers, args.users))
    results = await bench_floor(args, viewers)
    results += await bench_store(args, "pull", None, viewers)
    results += await bench_store(args, "hybrid", args.redis_url, viewers)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="ephemera_bench")
    parser.add_argument("--users", type=int, default=10_000, help="as given to bench.generate")
    parser.add_argument("--threshold", type=int, default=1_000, help="as given to bench.generate")
    parser.add_argument("--viewers", type=int, default=300)
    parser.add_argument("--requests", type=int, default=500, help="at 1 client; 4x that at 32 clients")
    parser.add_argument("--first", type=int, default=20)
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--data-dir", default="/tmp/ephemera-bench-data")
    parser.add_argument("--seed", type=int, default=11)
    for row in asyncio.run(bench(parser.parse_args())):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
