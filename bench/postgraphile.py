"""PostGraphile 4.14 on the bench database, side by side with Ephemera: the feed page.

    cd bench/postgraphile && npm ci      # once: PostGraphile 4.14.1 from package-lock.json

The feed page is `bench_pg.feed(viewerToken, pageSize)`, a SQL function in a schema of its own
(the app's migrations and tables are untouched): the viewer from their bearer token (the same
SHA-256 lookup as Ephemera's), then the same posts as the floor's statement. PostGraphile
exposes it as a root field; the author, avatar and media come from its relations over the
app's own tables (the avatar's, which has no foreign key, declared in postgraphile.tags.json5).
PostGraphile runs as its own Node process on loopback, production mode, no query log.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from typing import Any

import asyncpg
import httpx

from bench.common import ROOT, token_for
from bench.scenarios import Case

HERE = ROOT / "bench" / "postgraphile"
# plpgsql: the viewer is found first, then the floor's own statement runs with it as a parameter
# (a SQL function joining the token's row into the page's statement planned a nested loop over
# the posts: 200 ms a page where the floor takes 3).
FUNCTION_SQL = """
CREATE SCHEMA IF NOT EXISTS bench_pg;
DROP FUNCTION IF EXISTS bench_pg.feed(text, int);
CREATE FUNCTION bench_pg.feed(viewer_token text, page_size int) RETURNS SETOF public.posts
LANGUAGE plpgsql STABLE AS $$
DECLARE
  viewer bigint;
BEGIN
  SELECT user_id INTO viewer FROM public.auth_tokens
  WHERE token_hash = encode(sha256(convert_to(viewer_token, 'UTF8')), 'hex')
    AND revoked_at IS NULL AND expires_at > now();
  RETURN QUERY SELECT p.* FROM public.posts p
  WHERE p.author_id = viewer
     OR p.author_id IN (SELECT followee_id FROM public.follows
                        WHERE follower_id = viewer AND state = 'accepted')
  ORDER BY p.id DESC LIMIT page_size;
END
$$;
"""
FEED = """query Feed($token: String!, $size: Int!) {
  feed(viewerToken: $token, pageSize: $size) {
    nodes { id caption likeCount createdAt
      userByAuthorId { id username mediaByAvatarMediaId { id storageKey } }
      postMediasByPostId(orderBy: POSITION_ASC) { nodes { mediaByMediaId { id storageKey } } }
    }
  }
}"""


async def install_function(conn: asyncpg.Connection) -> None:
    await conn.execute(FUNCTION_SQL)


def body(case: Case) -> dict[str, Any]:
    return {"query": FEED, "variables": {"token": token_for(case.user), "size": case.variables["first"]}}


def served(data: dict[str, Any]) -> list[Any]:
    """The answer as bench/scenarios.py's feed rows (id, author, likes, media ids, has an avatar)."""
    return [
        (
            int(n["id"]),
            n["userByAuthorId"]["username"],
            int(n["likeCount"]),
            [int(m["mediaByMediaId"]["id"]) for m in n["postMediasByPostId"]["nodes"]],
            n["userByAuthorId"]["mediaByAvatarMediaId"] is not None,
        )
        for n in data["feed"]["nodes"]
    ]


def start(database_url: str, port: int) -> subprocess.Popen[bytes]:
    binary = HERE / "node_modules" / ".bin" / "postgraphile"
    if not binary.exists():
        raise RuntimeError(f"PostGraphile is not installed: cd {HERE} && npm ci")
    command = [str(binary), "--connection", database_url, "--schema", "public,bench_pg"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--disable-query-log"]
    command += ["--disable-default-mutations", "--no-setof-functions-contain-nulls"]
    env = {**os.environ, "NODE_ENV": "production"}
    # cwd: PostGraphile reads postgraphile.tags.json5 from the directory it starts in.
    return subprocess.Popen(command, cwd=HERE, env=env, stdout=subprocess.DEVNULL)


async def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError("PostGraphile stopped during start-up")
            try:
                answer = await client.post(
                    f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}
                )
                if answer.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("PostGraphile did not start")


async def page(http: httpx.AsyncClient, case: Case) -> list[Any]:
    answer = (await http.post("/graphql", json=body(case))).json()
    if "errors" in answer:
        raise RuntimeError(json.dumps(answer["errors"])[:500])
    return served(answer["data"])
