"""One server process for a bench, started as an operator would: a fresh PostgreSQL database migrated
with `python -m commands migrate`, seeded users with tokens, then `python -m bench.probed_server
serve` (the server with probes) in production mode over the given Redis. Stopped and dropped on
exit; its work directory (with the server's log) is kept when the bench failed."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from redis.asyncio import Redis

from bench.delivery_setup import (
    ROOT,
    ProbedServer,
    create_database,
    drop_database,
    free_port,
    raise_file_limit,
    seed_users,
    server_env,
)


@dataclass
class Served:
    process: asyncio.subprocess.Process
    probed: ProbedServer
    base: str
    ws_url: str
    db_url: str
    users: list[tuple[int, str]]


@contextlib.asynccontextmanager
async def served(args: argparse.Namespace, user_count: int) -> AsyncIterator[Served]:
    raise_file_limit()
    name, db_url = await create_database(args.database, args.database_prefix)
    work = Path(tempfile.mkdtemp(prefix="ephemera-bench-"))
    port = free_port()
    env = server_env(args, db_url, port, str(work / "data"))
    env["BENCH_SNAPSHOTS"] = env["BENCH_PROBES"] = str(work)
    redis = Redis.from_url(args.redis)
    await redis.flushdb()
    await redis.aclose()
    log = (work / "server.log").open("wb")
    server: asyncio.subprocess.Process | None = None
    try:
        migrate = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "commands", "migrate", cwd=ROOT, env=env, stdout=log, stderr=log
        )
        if await migrate.wait() != 0:
            raise RuntimeError(f"migrate failed: see {work / 'server.log'}")
        users = await seed_users(db_url, user_count)
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.probed_server", "serve", cwd=ROOT, env=env, stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while True:
                if server.returncode is not None:
                    raise RuntimeError(f"the server exited: see {work / 'server.log'}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
        yield Served(
            server, ProbedServer(server.pid, work), base, f"ws://127.0.0.1:{port}/graphql", db_url, users
        )
    finally:
        if server is not None and server.returncode is None:
            server.terminate()
            await server.wait()
        log.close()
        await drop_database(args.database, name)
    shutil.rmtree(work)
