"""The feed over HTTP against the real server on PostgreSQL, pull and hybrid, beside a SQL floor.

    python -m bench.generate --users 10000 --posts 200000      # once: builds ephemera_bench
    python -m bench.feed --database ephemera_bench --users 10000
    python -m bench.feed --database ephemera_bench --users 10000 --order ranked

For each store the server runs as its own process (uvicorn, one worker). The same viewers ask
for their first feed page (`first` posts with author, media, likes) at 1 and at 32 concurrent
clients. The floor is that same page by one hand-written SQL query through asyncpg. With
`--order ranked` every request is a first page of `feed(order: RANKED)` (candidates, signals,
score, and the snapshot written), the floor is the same ranking computed in one SQL statement
(without keeping a snapshot), and a last phase times second pages, which read the snapshot.
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
query($first: Int, $after: String, $order: FeedOrder) {
  feed(first: $first, after: $after, order: $order) {
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

# The ranking of resolvers/feed/ranking.py in one statement: $1 viewer, $2 page size, $3 candidates,
# $4 window hours, $5..$8 the weights (recency, engagement, relationship, content).
RANKED_FLOOR_SQL = """
WITH candidates AS (
  SELECT p.id, p.author_id, p.caption, p.like_count, p.comment_count, p.created_at FROM posts p
  WHERE p.author_id = $1
     OR p.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1 AND state = 'accepted')
  ORDER BY p.id DESC LIMIT $3
), recent AS (
  SELECT * FROM candidates WHERE created_at > now() - make_interval(hours => $4)
), authors AS (
  SELECT DISTINCT author_id FROM recent WHERE author_id <> $1
), done AS (
  SELECT a.author_id,
    (SELECT count(*) FROM post_likes l JOIN posts q ON q.id = l.post_id
      WHERE l.user_id = $1 AND q.author_id = a.author_id)
    + (SELECT count(*) FROM comments c JOIN posts q ON q.id = c.post_id
      WHERE c.author_id = $1 AND q.author_id = a.author_id)
    + (SELECT count(*) FROM story_views v JOIN stories s ON s.id = v.story_id
      WHERE v.viewer_id = $1 AND s.author_id = a.author_id)
    + (SELECT count(*) FROM story_views v JOIN stories s ON s.id = v.story_id
      JOIN story_reactions r ON r.story_id = v.story_id AND r.user_id = v.viewer_id
      WHERE v.viewer_id = $1 AND s.author_id = a.author_id)
    + coalesce((SELECT c.last_seq FROM conversation_members m
      JOIN conversations c ON c.id = m.conversation_id AND NOT c.is_group
      JOIN conversation_members o ON o.conversation_id = c.id AND o.user_id = a.author_id
      WHERE m.user_id = $1), 0) AS n,
    EXISTS (SELECT 1 FROM close_friends f WHERE f.user_id = $1 AND f.other_id = a.author_id) AS friend
  FROM authors a
), kinds AS (
  SELECT pm.post_id, count(*) AS n, bool_or(m.kind = 'VIDEO') AS video
  FROM post_media pm JOIN media m ON m.id = pm.media_id
  WHERE pm.post_id IN (SELECT id FROM recent) GROUP BY pm.post_id
), page AS (
  SELECT r.*,
    $5 * greatest(0, 1 - extract(epoch FROM now() - r.created_at) / ($4 * 3600.0))
    + $6 * ln(1 + r.like_count + r.comment_count)
    + $7 * coalesce(ln(1 + d.n) + CASE WHEN d.friend THEN 1 ELSE 0 END, 0)
    + $8 * CASE WHEN k.video THEN 1 WHEN k.n > 1 THEN 0.5 ELSE 0 END AS score
  FROM recent r LEFT JOIN done d ON d.author_id = r.author_id LEFT JOIN kinds k ON k.post_id = r.id
  ORDER BY score DESC, r.id DESC LIMIT $2
)
SELECT page.*, u.username,
  (SELECT json_agg(json_build_object('id', m.id, 'key', m.storage_key) ORDER BY pm.position)
     FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id = page.id) AS media,
  EXISTS (SELECT 1 FROM post_likes l WHERE l.post_id = page.id AND l.user_id = $1) AS liked
FROM page JOIN users u ON u.id = page.author_id ORDER BY page.score DESC, page.id DESC
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

            async def page(viewer: int, after: str | None = None) -> Any:
                headers = {"Authorization": f"Bearer {token_for(viewer)}"}
                variables = {"first": args.first, "after": after, "order": args.order.upper()}
                response = await http.post(
                    "/graphql", json={"query": FEED, "variables": variables}, headers=headers
                )
                body = response.json()
                if "errors" in body:
                    raise RuntimeError(body["errors"])
                return body["data"]["feed"]

            async def call(viewer: int) -> None:
                await page(viewer)

            cold = await measure(call, viewers, 1, len(viewers))  # hybrid: builds every set from SQL
            results = [{"store": name, "phase": "cold", **cold}]
            for clients, requests in ((1, args.requests), (32, args.requests * 4)):
                results.append(
                    {"store": name, "phase": "warm", **await measure(call, viewers, clients, requests)}
                )
            if args.order == "ranked":
                # Second pages read the snapshot their first page kept (taken just before, not timed).
                cursors = {viewer: (await page(viewer))["pageInfo"]["endCursor"] for viewer in viewers}
                with_next = [viewer for viewer, cursor in cursors.items() if cursor]

                async def next_page(viewer: int) -> None:
                    await page(viewer, cursors[viewer])

                timed = await measure(next_page, with_next, 1, args.requests)
                results.append({"store": name, "phase": "next", **timed})
            return results
    finally:
        server.terminate()
        await server.wait()


async def bench_floor(args: argparse.Namespace, viewers: list[int]) -> list[Any]:
    pool = await asyncpg.create_pool(dsn(bench_url(args.database)), min_size=32, max_size=32)
    ids = {row["username"]: row["id"] for row in await pool.fetch("SELECT id, username FROM users")}

    async def call(viewer: int) -> None:
        if args.order == "ranked":
            weights = (2.0, 1.0, 1.0, 0.5)  # the defaults of settings.py
            await pool.fetch(RANKED_FLOOR_SQL, ids[f"u{viewer}"], args.first, 500, 72, *weights)
        else:
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
    parser.add_argument("--order", choices=("recent", "ranked"), default="recent")
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--data-dir", default="/tmp/ephemera-bench-data")
    parser.add_argument("--seed", type=int, default=11)
    for row in asyncio.run(bench(parser.parse_args())):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
