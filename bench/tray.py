"""Benchmark of the stories tray over HTTP on PostgreSQL, against a hand-written SQL baseline.

A viewer follows 1,000 accounts; 300 of them have 1-4 active stories with mixed audiences
(some private, some listing the viewer as a close friend or mutual contact, some hiding
from or blocking the viewer), and the viewer has seen some. The server runs as a separate
uvicorn process; the baseline is one SQL statement computing the same first page.

    python -m bench.tray [--requests 2000] [--concurrency 8] [--first 50]

Uses (and recreates) the database `ephemera_bench_tray` on BENCH_DATABASE_URL's server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from core.ids import IdGenerator
from migrations.runner import upgrade_to_head
from models import AuthToken, Block, CloseFriend, Contact, Follow, Media, Story, StoryHide, StoryView, User
from resolvers.accounts.auth import TOKEN_PREFIX, token_hash

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
DB_NAME = "ephemera_bench_tray"
AUDIENCES = ("PUBLIC", "FOLLOWERS", "CLOSE_FRIENDS", "CONTACTS")

TRAY_QUERY = """
query($first: Int) {
  storiesTray(first: $first) {
    edges { cursor node {
      owner { id username }
      hasUnseen latestStoryAt
      stories { id createdAt expiresAt viewerHasSeen media { id } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

BASELINE_SQL = """
WITH related AS (
  SELECT followee_id AS id FROM follows WHERE follower_id = $1 AND state = 'accepted'
  UNION SELECT user_id FROM close_friends WHERE other_id = $1
  UNION SELECT user_id FROM contacts WHERE other_id = $1
), cand AS (
  SELECT s.id, s.author_id, s.audience, s.created_at, s.expires_at, s.media_id, u.is_private, u.username
  FROM stories s JOIN users u ON u.id = s.author_id
  WHERE s.expires_at > $2 AND s.deleted_at IS NULL AND s.media_id IS NOT NULL
    AND (s.author_id = $1 OR s.author_id IN (SELECT id FROM related))
), vis AS (
  SELECT c.* FROM cand c
  WHERE c.author_id = $1 OR (
    NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.user_id = $1 AND b.other_id = c.author_id)
                                          OR (b.user_id = c.author_id AND b.other_id = $1))
    AND NOT EXISTS (SELECT 1 FROM story_hides h WHERE h.user_id = c.author_id AND h.other_id = $1)
    AND CASE c.audience
      WHEN 'PUBLIC' THEN NOT c.is_private OR EXISTS (SELECT 1 FROM follows f
        WHERE f.follower_id = $1 AND f.followee_id = c.author_id AND f.state = 'accepted')
      WHEN 'FOLLOWERS' THEN EXISTS (SELECT 1 FROM follows f
        WHERE f.follower_id = $1 AND f.followee_id = c.author_id AND f.state = 'accepted')
      WHEN 'CLOSE_FRIENDS' THEN EXISTS (
        SELECT 1 FROM close_friends cf WHERE cf.user_id = c.author_id AND cf.other_id = $1)
      WHEN 'CONTACTS' THEN
        EXISTS (SELECT 1 FROM contacts k WHERE k.user_id = c.author_id AND k.other_id = $1)
        AND EXISTS (SELECT 1 FROM contacts k WHERE k.user_id = $1 AND k.other_id = c.author_id)
      ELSE false END)
), marked AS (
  SELECT vis.*, sv.id IS NOT NULL AS seen
  FROM vis LEFT JOIN story_views sv ON sv.story_id = vis.id AND sv.viewer_id = $1
)
SELECT author_id, max(username) AS username, bool_or(NOT seen) AS has_unseen,
       max(created_at) AS latest_at,
       json_agg(json_build_object('id', id, 'createdAt', created_at, 'expiresAt', expires_at,
                                  'seen', seen, 'mediaId', media_id) ORDER BY id) AS stories
FROM marked GROUP BY author_id
ORDER BY CASE WHEN author_id = $1 THEN 0 WHEN bool_or(NOT seen) THEN 1 ELSE 2 END, max(id) DESC, author_id
LIMIT $3
"""


def database_url() -> str:
    return make_url(ADMIN_URL).set(database=DB_NAME).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def recreate_database() -> None:
    conn = await asyncpg.connect(asyncpg_dsn(ADMIN_URL))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        await conn.close()
    await upgrade_to_head(database_url())


async def seed(rng: random.Random) -> tuple[int, str]:
    """The graph and stories; returns the viewer's id and a bearer token."""
    ids = IdGenerator(1)
    now = datetime.now(UTC)
    users: list[dict[str, Any]] = [
        {
            "id": ids.next_id(),
            "username": f"u{i}",
            "display_name": "",
            "bio": "",
            "is_private": i % 10 == 3,
            "password_hash": "-",
            "created_at": now,
            "last_active_at": now,
        }
        for i in range(6_000)
    ]
    viewer: int = users[0]["id"]
    followees = [u["id"] for u in users[1:1_001]]
    authors = followees[:300]
    follows = {(viewer, f) for f in followees}
    others = [u["id"] for u in users]
    while len(follows) < 60_000:  # background graph: other people following each other
        a, b = rng.sample(others, 2)
        follows.add((a, b))
    edges: dict[Any, list[dict[str, Any]]] = {CloseFriend: [], Contact: [], StoryHide: [], Block: []}
    for i, author in enumerate(authors):
        if i % 3 == 0:
            edges[CloseFriend].append({"user_id": author, "other_id": viewer, "created_at": now})
        if i % 4 == 0:
            edges[Contact].append({"user_id": author, "other_id": viewer, "created_at": now})
            edges[Contact].append({"user_id": viewer, "other_id": author, "created_at": now})
        if i % 37 == 5:
            edges[StoryHide].append({"user_id": author, "other_id": viewer, "created_at": now})
        if i % 53 == 7:
            edges[Block].append({"user_id": author, "other_id": viewer, "created_at": now})
    media, stories, views = [], [], []
    for author in authors:
        for _ in range(rng.randint(1, 4)):
            created = now - timedelta(minutes=rng.randint(1, 1_200))
            media_id, story_id = ids.next_id(), ids.next_id()
            media.append(
                {
                    "id": media_id,
                    "owner_id": author,
                    "purpose": "STORY",
                    "kind": "IMAGE",
                    "content_type": "image/jpeg",
                    "byte_size": 1000,
                    "status": "ready",
                    "storage_key": f"story/{author}/{media_id}.jpg",
                    "variants": [],
                    "created_at": created,
                }
            )
            audience = rng.choice(AUDIENCES)
            stories.append(
                {
                    "id": story_id,
                    "author_id": author,
                    "media_id": media_id,
                    "audience": audience,
                    "created_at": created,
                    "expires_at": created + timedelta(days=1),
                }
            )
            if rng.random() < 0.4:
                views.append(
                    {"id": ids.next_id(), "story_id": story_id, "viewer_id": viewer, "viewed_at": now}
                )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    engine = create_async_engine(database_url())
    async with engine.begin() as conn:
        await conn.execute(insert(User), users)
        await conn.execute(
            insert(Follow),
            [
                {
                    "id": ids.next_id(),
                    "follower_id": a,
                    "followee_id": b,
                    "state": "accepted",
                    "created_at": now,
                }
                for a, b in follows
            ],
        )
        for model, rows in edges.items():
            await conn.execute(insert(model), rows)
        await conn.execute(insert(Media), media)
        await conn.execute(insert(Story), stories)
        await conn.execute(insert(StoryView), views)
        await conn.execute(
            insert(AuthToken),
            [
                {
                    "id": ids.next_id(),
                    "user_id": viewer,
                    "token_hash": token_hash(token),
                    "created_at": now,
                    "expires_at": now + timedelta(days=1),
                }
            ],
        )
        await conn.exec_driver_sql("ANALYZE")
    await engine.dispose()
    print(f"seeded: 6000 users, {len(follows)} follows, {len(stories)} stories by 300 of 1000 followees")
    return viewer, token


async def measure(
    call: Callable[[], Awaitable[None]], requests: int, concurrency: int
) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, requests per second)."""
    for _ in range(20):
        await call()
    latencies: list[float] = []
    queue = iter(range(requests))

    async def worker() -> None:
        for _ in queue:
            start = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return statistics.median(latencies), p99, requests / elapsed


def start_server(port: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DATA_DIR": data_dir,
        "SECRET_KEY": "bench-secret",
        "PORT": str(port),
        # A page of 50 owners with all their stories (up to 100 each) is above the default cost.
        "MAX_QUERY_COST": "100000",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )


async def wait_ready(client: httpx.AsyncClient) -> None:
    for _ in range(200):
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("the server did not start")


async def main(requests: int, concurrency: int, first: int) -> None:
    rng = random.Random(42)
    await recreate_database()
    viewer, token = await seed(rng)
    port = 8765
    with tempfile.TemporaryDirectory() as data_dir:
        server = start_server(port, data_dir)
        try:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
                limits=httpx.Limits(max_connections=concurrency),
            ) as client:
                await wait_ready(client)
                body = {"query": TRAY_QUERY, "variables": {"first": first}}
                first_page = (await client.post("/graphql", json=body)).json()
                assert "errors" not in first_page, first_page

                async def http_call() -> None:
                    response = await client.post("/graphql", json=body)
                    response.raise_for_status()

                http = await measure(http_call, requests, concurrency)
        finally:
            server.terminate()
            server.wait(10)

    pool = await asyncpg.create_pool(asyncpg_dsn(database_url()), min_size=concurrency, max_size=concurrency)
    try:
        now = datetime.now(UTC)
        rows = await pool.fetch(BASELINE_SQL, viewer, now, first)
        api_owners = [e["node"]["owner"]["username"] for e in first_page["data"]["storiesTray"]["edges"]]
        assert api_owners == [r["username"] for r in rows], "the baseline and the API disagree"

        async def sql_call() -> None:
            await pool.fetch(BASELINE_SQL, viewer, now, first)

        sql = await measure(sql_call, requests, concurrency)
    finally:
        await pool.close()
    print(f"tray page of {first} owners, {requests} requests, concurrency {concurrency}")
    print(f"{'':28}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
    print(f"{'GraphQL over HTTP':28}{http[0]:>10.2f}{http[1]:>10.2f}{http[2]:>10.0f}")
    print(f"{'hand-written SQL (asyncpg)':28}{sql[0]:>10.2f}{sql[1]:>10.2f}{sql[2]:>10.0f}")
    print(
        f"{'ratio HTTP / SQL':28}{http[0] / sql[0]:>10.1f}{http[1] / sql[1]:>10.1f}{http[2] / sql[2]:>10.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--first", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.first))
