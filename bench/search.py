"""searchUsers over HTTP against the real server on PostgreSQL, beside its one-statement floor.

    python -m bench.search generate --users 100000      # once: builds ephemera_search
    python -m bench.search run --users 100000

`generate` writes users with realistic names, a power-law follow graph, a few close friends and
blocks, and a token per user (bench/search_world.py).
`run` starts the server as README says (one uvicorn process, no Redis: search does not use it) and
asks `searchUsers(query, first: 20)` for rotating viewers and queries (prefixes of 3 to 6
letters of names in the data, and whole names with one letter dropped: the typo path), one client
at a time, then the same page from the same ranking written as one SQL statement through asyncpg.
The figure is the ratio of the two p50s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import bench_url, dsn, token_for
from bench.feed import run_server
from bench.search_world import FIRST, LAST, generate

SEARCH = """
query($q: String!, $first: Int) {
  searchUsers(query: $q, first: $first) {
    edges { cursor node { id username displayName isPrivate viewerFollowStatus } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
# resolvers/discovery/search.py's statement, written by hand: $1 viewer, $2 prefix pattern, $3 word-prefix
# pattern, $4 the query (trigram similarity), $5 the page size + 1.
FLOOR_SQL = """
SELECT * FROM (
  SELECT u.id, u.username, u.display_name, u.is_private,
    CASE
      WHEN u.id IN (SELECT followee_id FROM follows WHERE follower_id = $1 AND state = 'accepted')
        OR u.id IN (SELECT other_id FROM close_friends WHERE user_id = $1) THEN 0
      WHEN u.id <> $1 AND u.id IN (
        SELECT f2.followee_id FROM follows f2 JOIN follows f1 ON f1.followee_id = f2.follower_id
        WHERE f1.follower_id = $1 AND f1.state = 'accepted' AND f2.state = 'accepted') THEN 1
      ELSE 2
    END AS tier,
    (SELECT count(*) FROM follows c WHERE c.followee_id = u.id AND c.state = 'accepted') AS followers,
    EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1 AND f.followee_id = u.id) AS follows
  FROM users u
  WHERE (u.username LIKE $2 OR u.display_name ILIKE $2 OR u.display_name ILIKE $3
         OR u.username % $4 OR u.display_name % $4)
    AND u.deleted_at IS NULL
    AND u.id NOT IN (SELECT other_id FROM blocks WHERE user_id = $1
                     UNION SELECT user_id FROM blocks WHERE other_id = $1)
) m
ORDER BY m.tier, m.followers DESC, m.id
LIMIT $5
"""


def queries(count: int, rng: random.Random) -> list[str]:
    """Prefixes of 3 to 6 letters of names in the data, and one in four a whole name missing a letter."""
    found = []
    for _ in range(count):
        word = rng.choice(FIRST + LAST)
        if rng.random() < 0.25 and len(word) > 4:
            drop = rng.randrange(1, len(word))
            found.append(word[:drop] + word[drop + 1 :])
        else:
            found.append(word[: rng.randint(3, min(6, len(word)))])
    return found


async def measure(call: Any, cases: list[tuple[int, str]]) -> dict[str, float]:
    latencies = []
    for viewer, query in cases:
        start = time.perf_counter()
        await call(viewer, query)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    return {
        "requests": len(cases),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "rps": round(len(cases) / sum(latencies), 1),
    }


def patterns(query: str) -> tuple[str, str, str]:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%", "% " + escaped + "%", query


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    rng = random.Random(args.seed)
    cases = [(rng.randrange(args.users), query) for query in queries(args.requests, rng)]
    warm = cases[: max(20, len(cases) // 10)]
    results: list[dict[str, Any]] = []

    pool = await asyncpg.create_pool(dsn(bench_url(args.database)), min_size=1, max_size=2)
    ids = [row["id"] for row in await pool.fetch("SELECT id FROM users ORDER BY id")]

    async def floor(viewer: int, query: str) -> None:
        prefix, word, fuzzy = patterns(query)
        await pool.fetch(FLOOR_SQL, ids[viewer], prefix, word, fuzzy, args.first + 1)

    try:
        await measure(floor, warm)
        results.append({"path": "sql-floor", **await measure(floor, cases)})
    finally:
        await pool.close()

    server = await run_server(args, None)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{args.port}", timeout=60) as http:

            async def page(viewer: int, query: str) -> None:
                headers = {"Authorization": f"Bearer {token_for(viewer)}"}
                variables = {"q": query, "first": args.first}
                body = (
                    await http.post(
                        "/graphql", json={"query": SEARCH, "variables": variables}, headers=headers
                    )
                ).json()
                if "errors" in body:
                    raise RuntimeError(body["errors"])

            await measure(page, warm)
            results.append({"path": "searchUsers", **await measure(page, cases)})
    finally:
        if server.returncode is None:
            server.terminate()
        await server.wait()
    results.append({"ratio_p50": round(results[1]["p50_ms"] / results[0]["p50_ms"], 2)})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("generate", "run"))
    parser.add_argument("--database", default="ephemera_search")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--following", type=int, default=40, help="mean accounts followed per user")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--first", type=int, default=20)
    parser.add_argument("--port", type=int, default=8093)
    parser.add_argument("--threshold", type=int, default=1_000, help="FANOUT_THRESHOLD (unused by search)")
    parser.add_argument("--data-dir", default=str(Path("/tmp/ephemera-search-bench")))
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if args.command == "generate":
        print(json.dumps(asyncio.run(generate(args))))
    else:
        for row in asyncio.run(run(args)):
            print(json.dumps(row))


if __name__ == "__main__":
    main()
