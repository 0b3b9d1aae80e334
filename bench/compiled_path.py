"""CPU per feed page in process, compiled executor against strawberry, on one generated database.

    python -m bench.generate --users 2000 --posts 40000 --database compile_bench   # once
    python -m bench.compiled_path --database compile_bench

The app runs in this process (no socket, no Redis: the pull store), called as an ASGI app with
no client library, so the CPU counted is the server's request path. Each round sends the feed
document of bench/request_path.py for rotating real tokens to an app with COMPILED_EXECUTION on,
one with it on but its plans run inside strawberry's pipeline as before server/ahead.py
("pipeline"), and one with it off, interleaved, then `{ __typename }` (what any request costs
before fields; "pipeline_typename": the same inside the pipeline);
prints the median CPU milliseconds per request (`time.thread_time`: the event loop's thread)
and wall milliseconds, and checks that both executors gave the same pages.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from app import create_app
from bench.common import bench_url, token_for
from bench.request_path import FEED
from bench.scenarios import PROFILE
from server.http import GraphQLHTTP
from settings import Settings


async def call(app: Any, body: bytes, token: str) -> bytes:
    """One POST /graphql straight into the ASGI app: no client library in the CPU counted."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench.test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("bench.test", 80),
        "state": {},
    }
    chunks: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)


def _bodies(query: str, viewers: list[int], first: int, users: int) -> list[bytes]:
    """One request body per viewer: the profile document asks for the next user's profile."""
    if query != PROFILE:
        return [json.dumps({"query": query, "variables": {"first": first}}).encode()] * len(viewers)
    return [
        json.dumps(
            {"query": query, "variables": {"first": first, "username": f"u{(viewer + 1) % users}"}}
        ).encode()
        for viewer in viewers
    ]


async def measure(
    app: Any, viewers: list[int], first: int, query: str = FEED, users: int = 2000
) -> tuple[float, float, list[Any]]:
    pages: list[Any] = []
    bodies = _bodies(query, viewers, first, users)
    cpu, wall = time.thread_time(), time.perf_counter()
    for viewer, body in zip(viewers, bodies, strict=True):
        pages.append(json.loads(await call(app, body, token_for(viewer))))
    n = len(viewers)
    return (time.thread_time() - cpu) * 1000 / n, (time.perf_counter() - wall) * 1000 / n, pages


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    base = Settings(
        database_url=bench_url(args.database),
        secret_key="bench-secret-of-32-bytes-or-more-xx",
        data_dir=Path(tempfile.mkdtemp(prefix="compiled-path-")),
        log_level="warning",
        fanout_interval_seconds=3600,
    )
    apps = {
        name: create_app(replace(base, compiled_execution=name != "strawberry"))
        for name in ("compiled", "pipeline", "strawberry")
    }
    _pipeline_only(apps["pipeline"])
    viewers = list(range(0, args.users, max(1, args.users // args.viewers)))[: args.viewers]
    # `{ __typename }` with the same tokens: what every request costs before any field runs.
    results: dict[str, dict[str, list[float]]] = {
        name: {"cpu": [], "wall": []} for name in (*apps, "typename", "pipeline_typename")
    }
    async with (
        apps["compiled"].router.lifespan_context(apps["compiled"]),
        apps["pipeline"].router.lifespan_context(apps["pipeline"]),
        apps["strawberry"].router.lifespan_context(apps["strawberry"]),
    ):
        clients = apps
        document = PROFILE if args.document == "profile" else FEED
        for http in clients.values():  # warm-up: plans, caches, pools
            await measure(http, viewers[:20], args.first, document, args.users)
        same = True
        for _ in range(args.rounds):
            pages = {}
            for name, http in clients.items():
                gc.collect()
                cpu, wall, pages[name] = await measure(http, viewers, args.first, document, args.users)
                results[name]["cpu"].append(cpu)
                results[name]["wall"].append(wall)
            same = same and (
                _without_urls(pages["compiled"])
                == _without_urls(pages["pipeline"])
                == _without_urls(pages["strawberry"])
            )
            for name, app in (("typename", apps["compiled"]), ("pipeline_typename", apps["pipeline"])):
                gc.collect()
                cpu, wall, _ = await measure(app, viewers, args.first, "query T { __typename }")
                results[name]["cpu"].append(cpu)
                results[name]["wall"].append(wall)
    return {
        "database": args.database,
        "document": args.document,
        "first": args.first,
        "requests_per_round": len(viewers),
        "rounds": args.rounds,
        "same_pages": same,
        **{
            f"{name}_{metric}_ms_per_request": round(statistics.median(values), 3)
            for name, by_metric in results.items()
            for metric, values in by_metric.items()
        },
    }


def _pipeline_only(app: Any) -> None:
    """The app as before server/ahead.py: every request through strawberry's pipeline."""
    views = [getattr(getattr(route, "app", None), "app", None) for route in app.routes]
    found = [view for view in views if isinstance(view, GraphQLHTTP) and view.ahead is not None]
    if not found:
        raise RuntimeError("no GraphQL view answering ahead of the pipeline in this app")
    for view in found:
        view.ahead = None


def _without_urls(pages: list[Any]) -> str:
    """Signed URLs carry the signing second; everything else must be identical."""
    return re.sub(r"\?[^\"]*", "", json.dumps(pages))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="compile_bench")
    parser.add_argument("--users", type=int, default=2000, help="as given to bench.generate")
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--first", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--document", choices=("feed", "profile"), default="feed")
    print(json.dumps(asyncio.run(bench(parser.parse_args()))))


if __name__ == "__main__":
    main()
