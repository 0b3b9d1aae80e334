"""bench.delivery's server side: the database, the seeded users, the server's environment, and the
probes of a server started by bench/probed_server.py."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import signal
import socket
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from core.database import Database
from core.ids import IdGenerator
from models import AuthToken, User
from resolvers.accounts.auth import TOKEN_PREFIX, token_hash

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def raise_file_limit() -> None:
    """For the client's sockets; the server inherits it too."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def create_database(admin_url: str, prefix: str = "ephemera_bench") -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = make_url(admin_url)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, database="postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return name, url.set(database=name).render_as_string(hide_password=False)


async def drop_database(admin_url: str, name: str) -> None:
    url = make_url(admin_url)
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, database="postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def seed_users(db_url: str, count: int) -> list[tuple[int, str]]:
    """Users with tokens straight in the database: signing up thousands would time argon2."""
    ids, now = IdGenerator(1), datetime.now(UTC)
    users, tokens, result = [], [], []
    for n in range(count):
        user_id, token = ids.next_id(), TOKEN_PREFIX + secrets.token_urlsafe(32)
        users.append(
            {
                "id": user_id,
                "username": f"bench{n}",
                "display_name": f"bench{n}",
                "bio": "",
                "is_private": False,
                "password_hash": "-",
                "created_at": now,
                "last_active_at": now,
            }
        )
        tokens.append(
            {
                "id": ids.next_id(),
                "user_id": user_id,
                "token_hash": token_hash(token),
                "created_at": now,
                "expires_at": now + timedelta(days=1),
            }
        )
        result.append((user_id, token))
    db = Database.open(db_url)
    async with db.write() as session:
        await session.execute(insert(User), users)
        await session.execute(insert(AuthToken), tokens)
    await db.close()
    return result


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# Production serves /metrics on PORT only to this token (METRICS_TOKEN).
METRICS_TOKEN = secrets.token_urlsafe(24)
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def server_env(args: argparse.Namespace, db_url: str, port: int, data_dir: str) -> dict[str, str]:
    """What an operator sets for one production process, with the mutation limits raised."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "WS_"))}
    return env | {
        "ENV": "production",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": db_url,
        "REDIS_URL": args.redis,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "METRICS_TOKEN": METRICS_TOKEN,
        "DATA_DIR": data_dir,
        "WEB_CONCURRENCY": "1",
        "MUTATIONS_PER_MINUTE_PER_USER": "1000000",
        "MUTATIONS_PER_MINUTE_PER_ADDRESS": "1000000",
        **({"WS_KEEPALIVE_SECONDS": str(args.keepalive)} if args.keepalive else {}),
        **({"DATABASE_POOL_SIZE": str(args.pool)} if getattr(args, "pool", 0) else {}),
    }


def _site(frame: tracemalloc.Frame) -> str:
    name = frame.filename
    for prefix in (str(ROOT) + "/", "site-packages/", "lib/python3.11/"):
        name = name.split(prefix, 1)[-1]
    return f"{name}:{frame.lineno}"


def growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, count: int, top: int) -> dict[str, Any]:
    """What grew across `count` opens, per subscription: by file, and by the line that allocated
    (with the lines that called it), biggest first."""
    by_file = after.compare_to(before, "filename")
    by_line = after.compare_to(before, "traceback")
    return {
        "traced_kib_per_subscription": round(sum(stat.size_diff for stat in by_file) / count / 1024, 1),
        "by_file": [
            f"{stat.size_diff / count:7.0f} B {stat.count_diff / count:5.1f} blocks  "
            + _site(stat.traceback[0]).rsplit(":", 1)[0]
            for stat in by_file[:top]
            if stat.size_diff > 0
        ],
        "by_line": [
            f"{stat.size_diff / count:7.0f} B {stat.count_diff / count:5.1f} blocks  "
            + " <- ".join(_site(frame) for frame in reversed(stat.traceback[-3:]))
            for stat in by_line[:top]
            if stat.size_diff > 0
        ],
    }


class ProbedServer:
    """A server started by bench/probed_server.py: SIGUSR2 asks for its collector and loop figures,
    SIGUSR1 (under tracemalloc) for a snapshot; a file answers each."""

    def __init__(self, pid: int, directory: Path) -> None:
        self.pid, self.directory = pid, directory
        self.snapshots = self.probes = 0

    async def _answer(self, signum: int, path: Path) -> None:
        os.kill(self.pid, signum)
        for _ in range(6000):  # a snapshot of a big heap takes minutes
            if await asyncio.to_thread(path.exists):
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"the server did not write {path}")

    async def snapshot(self) -> tracemalloc.Snapshot:
        self.snapshots += 1
        path = self.directory / f"snapshot-{self.snapshots}"
        await self._answer(signal.SIGUSR1, path)
        return tracemalloc.Snapshot.load(str(path))

    async def probe(self) -> dict[str, Any]:
        self.probes += 1
        path = self.directory / f"probe-{self.probes}.json"
        await self._answer(signal.SIGUSR2, path)
        figures: dict[str, Any] = json.loads(await asyncio.to_thread(path.read_text))
        return figures
