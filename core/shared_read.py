"""One read session per HTTP request, shared in turn by the request's loaders.

A session per loader batch paid a pool checkout (with its pre-ping), BEGIN and ROLLBACK every
time: about 3 ms, more than the statements themselves. Here the first read checks a connection
out and opens a transaction; later reads of the same request wait for an asyncio.Lock and reuse
it (one AsyncSession must never run two statements at once); the view closes it once the
response is built.

Reads stay as fresh as before: PostgreSQL runs READ COMMITTED (each statement sees every commit
made before it) and SQLite's driver opens no transaction for SELECTs. The identity map is
emptied after every use, as closing a per-batch session did, so a row re-read after a write in
`db.write()` is the new row, never a cached object. `db.write()` and `db.read()` first release
the shared connection (core/database.py `release_shared_read`): a request never holds one
pooled connection while it waits for another. Sockets and subscription events never share (their
context outlives any one operation); after `close()` reads fall back to short sessions.

Rule for callers: run statements only inside the block; never await a loader there (the loader
would wait for the lock the block holds).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database


class SharedRead:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.lock = asyncio.Lock()
        self.session: AsyncSession | None = None
        self.closed = False

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncSession]:
        if self.closed:
            async with self.db.read() as session:
                yield session
            return
        async with self.lock:
            if self.session is None:
                self.session = self.db.session()
            session = self.session
            try:
                yield session
            except GeneratorExit:
                self.session = None
                raise
            except BaseException as exc:
                if isinstance(exc, Exception) and not isinstance(exc, SQLAlchemyError):
                    session.expunge_all()
                    raise
                # A failed statement aborts the transaction (or a cancel left it mid-statement):
                # drop this session; the next read starts a new one.
                self.session = None
                await asyncio.shield(session.close())
                raise
            session.expunge_all()

    async def release(self) -> None:
        """Return the connection (before another session); the next use checks one out again."""
        async with self.lock:
            session, self.session = self.session, None
        if session is not None:
            await session.close()

    async def close(self) -> None:
        """Return the connection; later reads (if any) use their own short sessions."""
        self.closed = True
        async with self.lock:
            session, self.session = self.session, None
        if session is not None:
            await session.close()
