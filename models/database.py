"""Engines and sessions. SQLite gets one writer connection so writers queue instead of failing busy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@dataclass
class Database:
    url: str
    reader: AsyncEngine
    writer: AsyncEngine

    @classmethod
    def open(cls, url: str) -> Database:
        if url.startswith("sqlite"):
            reader = create_async_engine(url, pool_size=8, max_overflow=8)
            writer = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
            _sqlite_pragmas(reader)
            _sqlite_pragmas(writer)
            return cls(url, reader, writer)
        engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        return cls(url, engine, engine)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        return (self.reader,) if self.reader is self.writer else (self.reader, self.writer)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short session for reads; one per loader batch, never shared between tasks."""
        async with async_sessionmaker(self.reader, expire_on_commit=False)() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back on any error."""
        async with async_sessionmaker(self.writer, expire_on_commit=False).begin() as session:
            yield session

    async def ping(self) -> None:
        async with self.reader.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        for engine in self.engines:
            await engine.dispose()
