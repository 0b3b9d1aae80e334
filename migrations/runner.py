"""Running migrations from the app: upgrade the embedded database, or check a deployed one."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent


class NotMigrated(Exception):
    """The database is not at the latest revision; the message says what to run."""


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url
    config.attributes["configure_logging"] = False
    return config


async def upgrade_to_head(url: str) -> None:
    # env.py runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")


@functools.cache
def head_revision() -> str | None:
    """The newest revision of the migrations shipped with this code (read once per process)."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def ensure_at_head(engine: AsyncEngine) -> None:
    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        revision = await conn.run_sync(current)
    head = head_revision()
    if revision != head:
        raise NotMigrated(
            f"DATABASE_URL: the database is at revision {revision or 'none (empty)'}, but this version "
            f"needs {head}: run `make migrate` (or `.venv/bin/ephemera migrate`) with the same "
            "DATABASE_URL, then start the server again"
        )
