"""What the benchmark scripts share: where PostgreSQL is, a fresh migrated database, and the
generated users' tokens."""

from __future__ import annotations

import os

import asyncpg
from sqlalchemy.engine import make_url

from migrations.runner import upgrade_to_head

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def bench_url(database: str) -> str:
    return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def dsn(url: str) -> str:
    """asyncpg wants postgresql://, SQLAlchemy postgresql+asyncpg://."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def token_for(user_index: int) -> str:
    return f"eph_bench_{user_index:08d}"


async def fresh_database(name: str) -> asyncpg.Connection:
    """Drop and recreate `name`, migrate it to head, and connect to it."""
    admin = await asyncpg.connect(dsn(ADMIN_URL))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    await upgrade_to_head(bench_url(name))
    return await asyncpg.connect(dsn(bench_url(name)))
