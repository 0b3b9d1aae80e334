"""What the benchmark scripts share: where PostgreSQL is, and the generated users' tokens."""

from __future__ import annotations

import os

from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def bench_url(database: str) -> str:
    return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def dsn(url: str) -> str:
    """asyncpg wants postgresql://, SQLAlchemy postgresql+asyncpg://."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def token_for(user_index: int) -> str:
    return f"eph_bench_{user_index:08d}"
