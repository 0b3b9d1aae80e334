"""Migrations: an empty database goes up, down and up again, and ends exactly where the models are."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from migrations.runner import NotMigrated, alembic_config, head_revision
from models import Base
from services import open_services
from tests.harness import test_settings
from tests.services import PostgresDatabase, postgres_admin_url, unavailable


@pytest.fixture
async def empty_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    admin = postgres_admin_url()
    if admin is None:
        unavailable("PostgreSQL tests disabled: TEST_DATABASE_URL=skip")
    try:
        db = await asyncio.to_thread(PostgresDatabase.create, admin)  # type: ignore[arg-type]
    except Exception as exc:
        unavailable(f"PostgreSQL at {admin} is unreachable: {exc!r}")
    try:
        yield db.url
    finally:
        await asyncio.to_thread(db.drop)


def _schema_of(conn: Connection) -> tuple[str | None, list[str], list[Any]]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    tables = sorted(inspect(conn).get_table_names())
    return context.get_current_revision(), tables, compare_metadata(context, Base.metadata)


async def schema_of(url: str) -> tuple[str | None, list[str], list[Any]]:
    """(revision, tables, differences from the models) of the database at `url`."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_schema_of)
    finally:
        await engine.dispose()


async def test_migrations_go_up_down_and_up_and_match_the_models(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    model_tables = sorted(Base.metadata.tables)

    await asyncio.to_thread(command.upgrade, config, "head")
    revision, tables, diff = await schema_of(empty_database_url)
    assert revision == head_revision()
    assert tables == sorted([*model_tables, "alembic_version"])
    assert diff == []

    await asyncio.to_thread(command.downgrade, config, "base")
    revision, tables, _ = await schema_of(empty_database_url)
    assert revision is None
    assert tables == ["alembic_version"]

    await asyncio.to_thread(command.upgrade, config, "head")
    revision, tables, diff = await schema_of(empty_database_url)
    assert revision == head_revision()
    assert diff == []


async def test_the_server_refuses_an_unmigrated_database(empty_database_url: str, tmp_path: Path) -> None:
    settings = test_settings(empty_database_url, None, tmp_path / "data")
    assert settings.migrate_on_start is False
    with pytest.raises(NotMigrated, match="make migrate"):
        await open_services(settings)
    _, tables, _ = await schema_of(empty_database_url)
    assert tables == []


async def test_0007_keeps_pending_uploads_verifiable_and_verified_media_served(
    empty_database_url: str,
) -> None:
    """Uploads waiting at the upgrade get their key as upload key; verified media keep theirs."""
    config = alembic_config(empty_database_url)
    await asyncio.to_thread(command.upgrade, config, "0005")
    engine = create_async_engine(empty_database_url)
    insert_media = text(
        "INSERT INTO media (id, owner_id, purpose, kind, content_type, byte_size, status, storage_key,"
        " variants, created_at) VALUES (:id, 1, 'POST', 'IMAGE', 'image/jpeg', 10, :status, :key, '[]',"
        " CURRENT_TIMESTAMP)"
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, username, display_name, bio, is_private, password_hash,"
                    " created_at, last_active_at) VALUES (1, 'old', 'Old', '', false, 'x',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            await conn.execute(insert_media, {"id": 10, "status": "pending", "key": "post/1/10.jpg"})
            await conn.execute(insert_media, {"id": 11, "status": "ready", "key": "post/1/11.jpg"})

        await asyncio.to_thread(command.upgrade, config, "0007")
        async with engine.connect() as conn:
            rows = (
                await conn.execute(text("SELECT id, storage_key, upload_key FROM media ORDER BY id"))
            ).all()
        assert [tuple(row) for row in rows] == [
            (10, "post/1/10.jpg", "post/1/10.jpg"),
            (11, "post/1/11.jpg", None),
        ]

        await asyncio.to_thread(command.downgrade, config, "0005")
        async with engine.connect() as conn:
            keys = (await conn.execute(text("SELECT storage_key FROM media ORDER BY id"))).scalars().all()
        assert keys == ["post/1/10.jpg", "post/1/11.jpg"]
    finally:
        await engine.dispose()


async def test_0011_convos_makes_group_creators_admins_and_keeps_conversations_accepted(
    empty_database_url: str,
) -> None:
    """Conversations from before message requests stay in everyone's inbox; a group's creator
    becomes its admin, a 1:1 conversation gets none."""
    config = alembic_config(empty_database_url)
    await asyncio.to_thread(command.upgrade, config, "0010")
    engine = create_async_engine(empty_database_url)
    insert_user = text(
        "INSERT INTO users (id, username, display_name, bio, is_private, password_hash, created_at,"
        " last_active_at) VALUES (:id, :name, :name, '', false, 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    insert_conversation = text(
        "INSERT INTO conversations (id, is_group, created_by, last_seq, activity_id, created_at, updated_at)"
        " VALUES (:id, :group, :by, 0, :id, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    insert_member = text(
        "INSERT INTO conversation_members (conversation_id, user_id, last_read_seq, joined_at)"
        " VALUES (:cid, :uid, 0, CURRENT_TIMESTAMP)"
    )
    try:
        async with engine.begin() as conn:
            for user_id in (1, 2, 3):
                await conn.execute(insert_user, {"id": user_id, "name": f"u{user_id}"})
            await conn.execute(insert_conversation, {"id": 100, "group": True, "by": 1})
            await conn.execute(insert_conversation, {"id": 200, "group": False, "by": 2})
            for cid, uid in ((100, 1), (100, 2), (100, 3), (200, 2), (200, 3)):
                await conn.execute(insert_member, {"cid": cid, "uid": uid})

        await asyncio.to_thread(command.upgrade, config, "0011_convos")
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT conversation_id, user_id, is_admin, state, muted, joined_seq"
                        " FROM conversation_members ORDER BY conversation_id, user_id"
                    )
                )
            ).all()
        assert [tuple(row) for row in rows] == [
            (100, 1, True, "accepted", False, 0),
            (100, 2, False, "accepted", False, 0),
            (100, 3, False, "accepted", False, 0),
            (200, 2, False, "accepted", False, 0),
            (200, 3, False, "accepted", False, 0),
        ]
        await asyncio.to_thread(command.downgrade, config, "0010")
    finally:
        await engine.dispose()
