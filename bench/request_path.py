"""The request path of issue #12, side by side in one run: the feed page and `{ __typename }`.

    python -m bench.generate --users 10000 --posts 200000      # once: builds ephemera_bench
    python -m bench.request_path --database ephemera_bench

One server process started as README says (`ephemera serve`, as `python -m commands serve` from
this checkout; pull store: no Redis), driven by
wrk (C, so the load generator takes little of the 2 cores) with real tokens of rotating users.
The floor is the same page by one hand-written SQL statement through asyncpg. Before timing,
the server's page is checked identical to the floor's for a sample of viewers. Prints one JSON
object per measurement, then the ratios the issue's targets are stated in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx

from bench.common import bench_url, closed_loop, dsn, token_for, wrk_latency
from core.ids import from_global_id

ROOT = Path(__file__).resolve().parent.parent
FEED = """query Feed($first: Int) {
  feed(first: $first) {
    edges { cursor node { id caption likeCount createdAt
      author { id username avatar { url } } media { id url } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
TYPENAME = "{ __typename }"
FLOOR_SQL = """
WITH page AS (
  SELECT p.id, p.author_id, p.caption, p.like_count, p.created_at FROM posts p
  WHERE p.author_id = $1
     OR p.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1 AND state = 'accepted')
  ORDER BY p.id DESC LIMIT $2
)
SELECT page.*, u.username, a.storage_key AS avatar_key,
  (SELECT json_agg(json_build_object('id', m.id, 'key', m.storage_key) ORDER BY pm.position)
     FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id = page.id) AS media
FROM page JOIN users u ON u.id = page.author_id LEFT JOIN media a ON a.id = u.avatar_media_id
ORDER BY page.id DESC
"""


async def floor(args: argparse.Namespace, viewers: list[int]) -> list[dict[str, Any]]:
    pool = await asyncpg.create_pool(dsn(bench_url(args.database)), min_size=32, max_size=32)
    ids = {row["username"]: row["id"] for row in await pool.fetch("SELECT id, username FROM users")}
    viewer_ids = [ids[f"u{viewer}"] for viewer in viewers]

    async def page(n: int) -> None:
        await pool.fetch(FLOOR_SQL, viewer_ids[n % len(viewer_ids)], args.first)

    try:
        return [
            {"system": "sql-floor", "scenario": "feed", **await closed_loop(page, clients, args.duration)}
            for clients in (1, 32)
        ]
    finally:
        await pool.close()


def start_server(
    args: argparse.Namespace, extra: dict[str, str] | None = None, log: IO[bytes] | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": bench_url(args.database),
        "SECRET_KEY": "bench-secret",
        "DATA_DIR": args.data_dir,
        "PORT": str(args.port),
        "FANOUT_THRESHOLD": str(args.threshold),
        "LOG_LEVEL": "warning",
        # The benchmark itself sends thousands of requests from one address.
        "MUTATIONS_PER_MINUTE_PER_ADDRESS": "1000000",
        **(extra or {}),
    }
    env.pop("REDIS_URL", None)
    return subprocess.Popen(
        # `python -m commands` from the checkout: `.venv/bin/ephemera` runs whichever checkout the
        # virtualenv's editable install points at, which need not be this one.
        [sys.executable, "-m", "commands", "serve"],
        cwd=getattr(args, "server_root", None) or ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


async def wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if server.poll() is not None:
                raise RuntimeError("the server stopped during start-up")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not become ready")


async def check_pages(args: argparse.Namespace, viewers: list[int]) -> int:
    """The server's page equals the floor's for a sample of viewers (ids, authors, counts, media)."""
    conn = await asyncpg.connect(dsn(bench_url(args.database)))
    checked = 0
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{args.port}", timeout=30) as http:
            for viewer in viewers[:20]:
                user_id = await conn.fetchval("SELECT id FROM users WHERE username = $1", f"u{viewer}")
                rows = await conn.fetch(FLOOR_SQL, user_id, args.first)
                body = (
                    await http.post(
                        "/graphql",
                        json={"query": FEED, "variables": {"first": args.first}},
                        headers={"Authorization": f"Bearer {token_for(viewer)}"},
                    )
                ).json()
                edges = body["data"]["feed"]["edges"]
                served = [
                    (
                        _db_id(e["node"]["id"]),
                        e["node"]["author"]["username"],
                        e["node"]["likeCount"],
                        [_db_id(m["id"]) for m in e["node"]["media"]],
                        e["node"]["author"]["avatar"] is not None,
                    )
                    for e in edges
                ]
                expected = [
                    (
                        row["id"],
                        row["username"],
                        row["like_count"],
                        [m["id"] for m in json.loads(row["media"] or "[]")],
                        row["avatar_key"] is not None,
                    )
                    for row in rows
                ]
                if served != expected:
                    raise AssertionError(f"viewer u{viewer}: the server's page differs from the floor's")
                checked += 1
    finally:
        await conn.close()
    return checked


def _db_id(global_id: str) -> int:
    parsed = from_global_id(global_id)
    assert parsed is not None
    return parsed[1]


def wrk(
    args: argparse.Namespace, document: str, variables: str, viewers: int, clients: int
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".graphql", delete=False) as file:
        file.write(document)
    command = [
        "wrk",
        f"-t{min(clients, 2)}",
        f"-c{clients}",
        f"-d{args.duration}s",
        "--latency",
        "-s",
        str(ROOT / "bench/wrk/graphql.lua"),
        f"http://127.0.0.1:{args.port}",
        "--",
        file.name,
        variables,
        str(viewers),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(file.name)
    return {
        "clients": clients,
        "p50_ms": wrk_latency(output, "50%"),
        "p99_ms": wrk_latency(output, "99%"),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
    }


async def bench(args: argparse.Namespace) -> list[dict[str, Any]]:
    viewers = random.Random(args.seed).sample(range(args.users), args.viewers)
    results = await floor(args, viewers)
    server = start_server(args)
    try:
        await wait_ready(args.port, server)
        checked = await check_pages(args, viewers)
        print(json.dumps({"pages_checked_identical": checked}), file=sys.stderr)
        variables = json.dumps({"first": args.first})
        wrk(args, FEED, variables, args.viewers, 4)  # warm-up: caches, pool, JIT-free but primed
        for clients in (1, 32):
            results.append(
                {
                    "system": "ephemera",
                    "scenario": "feed",
                    **wrk(args, FEED, variables, args.viewers, clients),
                }
            )
        for name, viewers_n in (("typename-anonymous", 0), ("typename-token", args.viewers)):
            results.append(
                {"system": "ephemera", "scenario": name, **wrk(args, TYPENAME, "{}", viewers_n, 1)}
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def ratios(results: list[dict[str, Any]]) -> dict[str, float]:
    def pick(system: str, scenario: str, clients: int) -> dict[str, Any]:
        return next(
            r for r in results if (r["system"], r["scenario"], r["clients"]) == (system, scenario, clients)
        )

    floor_1, server_1 = pick("sql-floor", "feed", 1), pick("ephemera", "feed", 1)
    floor_32, server_32 = pick("sql-floor", "feed", 32), pick("ephemera", "feed", 32)
    anonymous, token = pick("ephemera", "typename-anonymous", 1), pick("ephemera", "typename-token", 1)
    return {
        "feed_p50_vs_floor_at_1_client": round(server_1["p50_ms"] / floor_1["p50_ms"], 2),
        "feed_rps_at_32_clients": server_32["rps"],
        "feed_rps_vs_floor_at_32_clients": round(server_32["rps"] / floor_32["rps"], 3),
        "token_cost_vs_anonymous": round(anonymous["rps"] / token["rps"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="ephemera_bench")
    parser.add_argument("--users", type=int, default=10_000, help="as given to bench.generate")
    parser.add_argument("--threshold", type=int, default=1_000, help="as given to bench.generate")
    parser.add_argument("--viewers", type=int, default=300)
    parser.add_argument("--first", type=int, default=20)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--port", type=int, default=8078)
    parser.add_argument("--data-dir", default="/tmp/ephemera-bench-data")
    parser.add_argument("--seed", type=int, default=11)
    results = asyncio.run(bench(parser.parse_args()))
    for row in results:
        print(json.dumps(row))
    print(json.dumps({"ratios": ratios(results)}))


if __name__ == "__main__":
    main()
