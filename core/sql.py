"""Small SQL helpers that differ by dialect."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from core.database import Database


async def insert_ignore(session: AsyncSession, model: type[DeclarativeBase], **values: Any) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when a row was written (idempotent writes race safely)."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(model).values(**values).on_conflict_do_nothing()
    result: Any = await session.execute(stmt)
    return bool(result.rowcount)


async def insert_ignore_many(
    session: AsyncSession, model: type[DeclarativeBase], rows: list[dict[str, Any]]
) -> int:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING; how many rows were written."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    result: Any = await session.execute(module.insert(model).values(rows).on_conflict_do_nothing())
    return int(result.rowcount or 0)


async def upsert(session: AsyncSession, model: type[DeclarativeBase], keys: list[str], **values: Any) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE the other columns: the last write wins."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(model).values(**values)
    changes = {name: stmt.excluded[name] for name in values if name not in keys}
    await session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changes))


def id_in(column: Any, ids: Iterable[int], *, postgres: bool) -> ColumnElement[bool]:
    """`column IN ids`: on PostgreSQL one array parameter (`= ANY($1)`) instead of one per id.

    Large batches (a tray of hundreds of owners) otherwise spend more time rendering and binding
    thousands of parameters than PostgreSQL spends running the statement.
    """
    values = list(ids)
    if postgres:
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(BigInteger)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


def ids_in(column: Any, *, postgres: bool, name: str = "ids") -> ColumnElement[bool]:
    """`id_in` with its ids as the named parameter `name`, given when the statement runs: a
    statement built once per backend (one array on PostgreSQL, an expanding list on SQLite)."""
    if postgres:
        return column == any_(bindparam(name, type_=postgresql.ARRAY(BigInteger)))  # type: ignore[no-any-return]
    return column.in_(bindparam(name, expanding=True))  # type: ignore[no-any-return]


def skip_locked(stmt: Select[Any], db: Database) -> Select[Any]:
    """Rows a concurrent worker has claimed are skipped (PostgreSQL); SQLite has one writer anyway."""
    return stmt if db.is_sqlite else stmt.with_for_update(skip_locked=True)
