"""The world of the search benchmark (bench/search.py): users with realistic names (first and
last names from lists, usernames in the usual shapes), a power-law follow graph, a few close
friends and blocks, and a token per user.

    python -m bench.search generate --users 100000      # builds ephemera_search
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench.common import bench_url, dsn, fresh_database, token_for
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
