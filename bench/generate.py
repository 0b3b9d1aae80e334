"""Build a realistic graph in a PostgreSQL database of its own for the feed benchmark.

    python -m bench.generate --users 10000 --posts 200000

Followers follow a power law (Zipf over a random popularity order): a few accounts have
thousands of followers, most have a handful. Every post has 1 to 3 READY media rows and four
users in five have an avatar. Posts are `pushed` when their author has fewer than --threshold
followers, as the server would decide.
Token `eph_bench_<n>` signs in user n (written straight to auth_tokens). Stories, comments,
conversations and activity are added by bench/generate_social.py.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import random
import time
from datetime import UTC, datetime, timedelta

from bench.common import fresh_database, token_for
from bench.generate_social import World, generate_social
from core.ids import EPOCH_MS, NODE_BITS, SEQUENCE_BITS

USER_COLUMNS = ["id", "username", "display_name", "bio", "is_private", "password_hash"]
MEDIA_COLUMNS = ["id", "owner_id", "purpose", "kind", "content_type", "byte_size", "status", "storage_key"]


def make_id(ms: int, seq: int) -> int:
    return (ms << (NODE_BITS + SEQUENCE_BITS)) | (seq % (1 << (NODE_BITS + SEQUENCE_BITS)))


def viewer_likes(
    graph: dict[int, set[int]],
    authors: list[int],
    post_ids: list[int],
    user_ids: list[int],
    per_user: int,
    rng: random.Random,
) -> list[tuple[int, int, datetime]]:
    """About `per_user` likes by each user on posts of accounts they follow: the interactions the
    ranked feed's relationship signal counts."""
    by_author: dict[int, list[int]] = {}
    for author, post_id in zip(authors, post_ids, strict=True):
        by_author.setdefault(author, []).append(post_id)
    following: dict[int, list[int]] = {}
    for followee, followers in graph.items():
        if followee in by_author:
            for follower in followers:
                following.setdefault(follower, []).append(followee)
    now = datetime.now(UTC)
    rows = []
    for user, followees in following.items():
        liked = {rng.choice(by_author[rng.choice(followees)]) for _ in range(per_user)}
        rows += [(post_id, user_ids[user], now) for post_id in liked]
    return rows


def follow_graph(users: int, mean_following: int, rng: random.Random) -> dict[int, set[int]]:
    """followee -> followers; popularity ~ 1/rank^1.1 over a shuffled order of the users."""
    order = list(range(users))
    rng.shuffle(order)
    cumulative = list(itertools.accumulate(1 / (rank + 1) ** 1.1 for rank in range(users)))
    followers: dict[int, set[int]] = {u: set() for u in range(users)}
    for follower in range(users):
        count = min(users - 1, max(1, int(rng.paretovariate(1.5) * mean_following / 3)))
        for followee in {order[i] for i in rng.choices(range(users), cum_weights=cumulative, k=count)}:
            if followee != follower:
                followers[followee].add(follower)
    return followers


async def generate(args: argparse.Namespace) -> dict[str, object]:
    rng = random.Random(args.seed)
    conn = await fresh_database(args.database)
    started = time.perf_counter()
    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000) - EPOCH_MS
    span_ms = args.days * 86_400_000
    base = now_ms - span_ms - 1000

    user_ids = [make_id(base, n) for n in range(args.users)]
    await conn.copy_records_to_table(
        "users",
        columns=[*USER_COLUMNS, "created_at", "last_active_at"],
        records=[(uid, f"u{n}", f"User {n}", "", False, "-", now, now) for n, uid in enumerate(user_ids)],
    )
    expires = now + timedelta(days=30)
    await conn.copy_records_to_table(
        "auth_tokens",
        columns=["id", "user_id", "token_hash", "created_at", "expires_at"],
        records=[
            (make_id(base + 1, n), uid, hashlib.sha256(token_for(n).encode()).hexdigest(), now, expires)
            for n, uid in enumerate(user_ids)
        ],
    )
    graph = follow_graph(args.users, args.following, rng)
    follow_rows = [
        (make_id(base + 2 + n // 4_000_000, n), user_ids[follower], user_ids[followee], "accepted", now)
        for n, (followee, follower) in enumerate((f, x) for f, xs in graph.items() for x in xs)
    ]
    await conn.copy_records_to_table(
        "follows", columns=["id", "follower_id", "followee_id", "state", "created_at"], records=follow_rows
    )
    counts = {u: len(f) for u, f in graph.items()}
    # Posting activity grows with popularity, but everyone posts a little.
    activity = [1 + counts[u] ** 0.5 for u in range(args.users)]
    authors = rng.choices(range(args.users), activity, k=args.posts)
    times = sorted(rng.randrange(span_ms) for _ in range(args.posts))
    posts, media, links = [], [], []
    for n, (author, offset) in enumerate(zip(authors, times, strict=True)):
        ms = now_ms - span_ms + offset
        created = datetime.fromtimestamp((ms + EPOCH_MS) / 1000, UTC)
        post_id = make_id(ms, 4 * n)
        pushed = counts[author] < args.threshold
        posts.append((post_id, user_ids[author], f"post {n}", pushed, rng.randrange(50), created))
        for position in range(rng.choice((1, 1, 1, 2, 3))):
            media_id = make_id(ms, 4 * n + 1 + position)
            key = f"post/{user_ids[author]}/{media_id}.jpg"
            row = (media_id, user_ids[author], "POST", "IMAGE", "image/jpeg", 180_000, "ready", key)
            media.append((*row, 1080, 1080, "[]", created))
            links.append((post_id, position, media_id))
    await conn.copy_records_to_table(
        "posts", columns=["id", "author_id", "caption", "pushed", "like_count", "created_at"], records=posts
    )
    await conn.copy_records_to_table(
        "media", columns=[*MEDIA_COLUMNS, "width", "height", "variants", "created_at"], records=media
    )
    await conn.copy_records_to_table("post_media", columns=["post_id", "position", "media_id"], records=links)
    # Four users in five have an avatar (a page shows its author's avatar beside each post).
    avatars = [
        (make_id(base + 3, n), uid, "AVATAR", "IMAGE", "image/jpeg", 40_000, "ready", f"avatar/{uid}/{n}.jpg")
        for n, uid in enumerate(user_ids)
        if n % 5
    ]
    await conn.copy_records_to_table(
        "media",
        columns=[*MEDIA_COLUMNS, "width", "height", "variants", "created_at"],
        records=[(*row, 320, 320, "[]", now) for row in avatars],
    )
    await conn.execute(
        "UPDATE users SET avatar_media_id = media.id FROM media"
        " WHERE media.owner_id = users.id AND media.purpose = 'AVATAR'"
    )
    likes = viewer_likes(graph, authors, [post[0] for post in posts], user_ids, args.likes, rng)
    await conn.copy_records_to_table(
        "post_likes", columns=["post_id", "user_id", "created_at"], records=likes
    )
    world = World(
        user_ids, graph, [(post[0], a) for post, a in zip(posts, authors, strict=True)], likes, base, now
    )
    social = await generate_social(conn, world, rng, args.conversations)
    await conn.execute("ANALYZE")
    await conn.close()
    return {
        **social,
        "database": args.database,
        "users": args.users,
        "follows": len(follow_rows),
        "posts": len(posts),
        "media": len(media),
        "likes": len(likes),
        "max_followers": max(counts.values()),
        "median_followers": sorted(counts.values())[len(counts) // 2],
        "authors_at_or_above_threshold": sum(c >= args.threshold for c in counts.values()),
        "threshold": args.threshold,
        "seconds": round(time.perf_counter() - started, 1),
    }


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--following", type=int, default=150, help="mean accounts followed per user")
    parser.add_argument("--threshold", type=int, default=1_000, help="FANOUT_THRESHOLD the server will use")
    parser.add_argument("--days", type=int, default=90, help="posts are spread over this many days")
    parser.add_argument("--likes", type=int, default=20, help="likes per user on followed accounts' posts")
    parser.add_argument("--conversations", type=int, default=2_000, help="direct conversations")
    parser.add_argument("--database", default="ephemera_bench")
    parser.add_argument("--seed", type=int, default=7)
    return parser


def main() -> None:
    print(json.dumps(asyncio.run(generate(parser().parse_args()))))


if __name__ == "__main__":
    main()
