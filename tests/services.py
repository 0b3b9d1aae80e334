"""Where the test databases and Redis live, and whether a missing one skips or fails (CI)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy.engine import make_url

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
IN_CI = os.environ.get("CI", "").lower() == "true"
T = TypeVar("T")


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even while an event loop runs in this thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def unavailable(what: str) -> None:
    """Fail under CI (the services must be there), skip with the reason elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true requires it)", pytrace=False)
    pytest.skip(what)


def postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    return None if url in ("", "skip") else url


def redis_url() -> str | None:
    """TEST_REDIS_URL; under pytest-xdist each worker flushes a database of its own (gw1 takes the
    one below the configured one, and so on)."""
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    if url in ("", "skip"):
        return None
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    offset = int(worker[2:]) if worker[2:].isdigit() else 0
    if offset:
        parts = urlsplit(url)
        database = int(parts.path.strip("/") or 0)
        url = urlunsplit(parts._replace(path=f"/{(database - offset) % 16}"))
    return url


@dataclass
class PostgresDatabase:
    """A fresh database created for this test session and dropped after it."""

    admin_url: str
    url: str
    name: str

    @classmethod
    def create(cls, admin_url: str) -> PostgresDatabase:
        name = f"ephemera_test_{uuid.uuid4().hex[:10]}"
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        db = cls(admin_url, url, name)
        run_blocking(db._execute(f'CREATE DATABASE "{name}"'))
        return db

    def drop(self) -> None:
        run_blocking(self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    async def _execute(self, sql: str) -> None:
        import asyncpg

        url = make_url(self.admin_url)
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database or "postgres",
            timeout=5,
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


async def redis_reachable(url: str) -> bool:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
        return True
    except Exception:
        return False
    finally:
        await client.aclose()
