"""searchUsers over HTTP against the real server on PostgreSQL, beside its one-statement floor.

    python -m bench.search generate --users 100000      # once: builds ephemera_search
    python -m bench.search run --users 100000

`generate` writes users with realistic names (first and last names from lists, usernames in the
usual shapes), a power-law follow graph, a few close friends and blocks, and a token per user.
`run` starts the server as README says (one uvicorn process, no Redis: search does not use it) and
asks `searchUsers(query, first: 20)` for rotating viewers and queries (prefixes of 3 to 6
letters of names in the data, and whole names with one letter dropped: the typo path), one client
at a time, then the same page from the same ranking written as one SQL statement through asyncpg.
The figure is the ratio of the two p50s.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import bench_url, dsn, fresh_database, token_for
from bench.feed import run_server
from bench.generate import make_id
from core.ids import EPOCH_MS

FIRST = [
    "james",
    "mary",
    "robert",
    "patricia",
    "john",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "chris",
    "nancy",
    "daniel",
    "lisa",
    "matthew",
    "betty",
    "anthony",
    "sandra",
    "mark",
    "ashley",
    "paul",
    "emily",
    "steven",
    "donna",
    "andrew",
    "michelle",
    "joshua",
    "carol",
    "kevin",
    "amanda",
    "brian",
    "melissa",
    "george",
    "deborah",
    "timothy",
    "stephanie",
    "ronald",
    "rebecca",
    "jason",
    "sharon",
    "edward",
    "laura",
    "jeffrey",
    "cynthia",
    "ryan",
    "amy",
    "jacob",
    "angela",
    "nicolas",
    "anna",
    "sofia",
    "mateo",
    "lucas",
    "emma",
    "noah",
    "olivia",
    "liam",
    "mia",
    "ethan",
    "ava",
    "yuki",
    "kenji",
    "hana",
    "omar",
    "noor",
    "amara",
    "ravi",
    "priya",
    "diego",
    "lena",
    "felix",
    "ines",
    "marco",
    "chloe",
    "tariq",
    "elsa",
    "jonas",
    "maya",
    "oscar",
    "zoe",
    "ada",
    "nina",
    "sam",
    "theo",
]
LAST = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "kowalski",
    "haddad",
    "sato",
    "rossi",
    "byrne",
    "aziz",
    "laurent",
    "duarte",
    "farouk",
    "tanaka",
    "vogel",
    "bianchi",
    "raman",
    "berg",
    "obi",
    "wagner",
    "alvarez",
    "kim",
    "lind",
    "cohen",
    "patel",
    "nilsson",
    "mansour",
    "petrova",
    "clarke",
    "okafor",
    "novak",
    "silva",
    "costa",
    "muller",
    "schmidt",
    "fischer",
    "weber",
    "meyer",
]
SHAPES = ("{f}.{l}", "{f}_{l}", "{f}{l}", "{f}.{l}{n}", "{f}{n}", "the.{f}", "{l}.{f}", "{f}_{l}{n}")

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


def people(users: int, rng: random.Random) -> list[tuple[str, str]]:
    """(username, display name), usernames unique."""
    taken: set[str] = set()
    found = []
    for _ in range(users):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        for attempt in itertools.count():
            shape = rng.choice(SHAPES)
            name = shape.format(f=first, l=last, n=rng.randrange(1, 10 ** (2 + attempt // 4)))[:30]
            if name not in taken:
                break
        taken.add(name)
        found.append((name, f"{first.title()} {last.title()}"))
    return found


async def generate(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    conn = await fresh_database(args.database)
    started = time.perf_counter()
    now = datetime.now(UTC)
    base = int(now.timestamp() * 1000) - EPOCH_MS - 86_400_000
    ids = [make_id(base, n) for n in range(args.users)]
    named = people(args.users, rng)
    await conn.copy_records_to_table(
        "users",
        columns=["id", "username", "display_name", "bio", "is_private", "password_hash", "created_at",
                 "last_active_at"],
        records=[(uid, name, display, "", n % 7 == 0, "-", now, now)
                 for n, (uid, (name, display)) in enumerate(zip(ids, named, strict=True))],
    )  # fmt: skip
    await conn.copy_records_to_table(
        "auth_tokens",
        columns=["id", "user_id", "token_hash", "created_at", "expires_at"],
        records=[
            (
                make_id(base + 1, n),
                uid,
                hashlib.sha256(token_for(n).encode()).hexdigest(),
                now,
                now + timedelta(30),
            )
            for n, uid in enumerate(ids)
        ],
    )
    # Power-law popularity: followee picked by Zipf-like weights over a shuffled order.
    order = list(range(args.users))
    rng.shuffle(order)
    weights = list(itertools.accumulate(1 / (rank + 1) ** 1.05 for rank in range(args.users)))
    pairs: set[tuple[int, int]] = set()
    for follower in range(args.users):
        count = min(500, max(1, int(rng.paretovariate(1.6) * args.following / 2.7)))
        for index in rng.choices(range(args.users), cum_weights=weights, k=count):
            if order[index] != follower:
                pairs.add((follower, order[index]))
    follows = [
        (make_id(base + 2 + n // 4_000_000, n), ids[a], ids[b], "accepted", now)
        for n, (a, b) in enumerate(pairs)
    ]
    await conn.copy_records_to_table(
        "follows", columns=["id", "follower_id", "followee_id", "state", "created_at"], records=follows
    )
    by_follower: dict[int, list[int]] = {}
    for a, b in pairs:
        by_follower.setdefault(a, []).append(b)
    close = [(ids[a], ids[b], now) for a, bs in by_follower.items() for b in bs[:3] if a % 3 == 0]
    await conn.copy_records_to_table(
        "close_friends", columns=["user_id", "other_id", "created_at"], records=close
    )
    blocks = {
        (ids[rng.randrange(args.users)], ids[rng.randrange(args.users)]) for _ in range(args.users // 20)
    }
    await conn.copy_records_to_table(
        "blocks",
        columns=["user_id", "other_id", "created_at"],
        records=[(a, b, now) for a, b in blocks if a != b],
    )
    await conn.close()
    # VACUUM: the visibility map lets follower counts be index-only scans, as on a live database.
    vacuum = await asyncpg.connect(dsn(bench_url(args.database)))
    await vacuum.execute("VACUUM ANALYZE")
    await vacuum.close()
    return {
        "database": args.database,
        "users": args.users,
        "follows": len(follows),
        "close_friends": len(close),
        "blocks": len(blocks),
        "seconds": round(time.perf_counter() - started, 1),
    }


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
