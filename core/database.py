"""Engines and sessions. SQLite gets one writer connection so writers queue instead of failing busy.

With read replicas (core/replicas.py) only the shared read session of an HTTP request may read
from one, chosen once the viewer is known (`route_reads`); after that request writes, the rest of
it reads the primary. Everything else reads the primary."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.trigrams import similarity

if TYPE_CHECKING:
    from core.replicas import ReadRouter


def _begin_immediate(engine: AsyncEngine) -> None:
    """Write transactions take SQLite's write lock when they begin, not at their first write: a
    rule read inside one cannot be overtaken by another writer (a second process on the file)."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver's own BEGIN is replaced below

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


STALE_AFTER_SECONDS = 30.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only when it sat idle for a while: one that served a
    request a moment ago is alive, and pinging every checkout cost a round trip per request. A
    dead one found here is replaced (SQLAlchemy retries the checkout on DisconnectionError)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        # Free to ask: a connection the server ended (pg_terminate_backend, a restart, a failover)
        # says so as soon as the event loop reads the server's goodbye; hand out another one.
        driver = getattr(dbapi_connection, "_connection", None)
        if driver is not None and getattr(driver, "is_closed", lambda: False)():
            raise DisconnectionError("a pooled connection was closed by the server")
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < STALE_AFTER_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("a pooled connection was closed while idle") from exc


def _drop_confused_connections(engine: AsyncEngine) -> None:
    """A connection whose operation the server cut short can be left mid-protocol ("cannot switch
    to state ...; another operation is in progress"): treat it as lost, so it is never reused."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def on_error(context: Any) -> None:
        if type(context.original_exception).__name__.endswith("InternalClientError"):
            context.is_disconnect = True


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function("trgm_similarity", 2, similarity, deterministic=True)


# Set while an HTTP request shares one read session (core/shared_read.py): any other session
# the request opens returns that connection first, so a request never holds one pooled connection
# while it waits for another (enough requests doing that at once would deadlock the pool).
# True in the task that has a write transaction open: no network call may happen there (tests
# instrument the storage, Redis and pub/sub adapters with this; core/unit_of_work.py explains why).
transaction_open: ContextVar[bool] = ContextVar("transaction_open", default=False)

release_shared_read: ContextVar[Callable[[], Awaitable[None]] | None] = ContextVar(
    "release_shared_read", default=None
)

# The replica (an autocommit engine) this request's shared read session reads from, when
# `Database.route_reads` chose one; unset everywhere else, which means the primary.
_replica: ContextVar[AsyncEngine | None] = ContextVar("replica", default=None)


@dataclass
class Database:
    url: str
    reader: AsyncEngine
    writer: AsyncEngine
    _reads: async_sessionmaker[AsyncSession] = field(init=False, repr=False)
    _writes: async_sessionmaker[AsyncSession] = field(init=False, repr=False)
    # Read replicas (core/replicas.py): only the reads of HTTP requests go there.
    router: ReadRouter | None = None

    def __post_init__(self) -> None:
        # PostgreSQL reads run in autocommit: each statement sees every commit made before it (as
        # READ COMMITTED did), without a BEGIN and a ROLLBACK round trip around them. SQLite's
        # driver opens no transaction for a SELECT anyway.
        reader = (
            self.reader if self.is_sqlite else self.reader.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._reads = async_sessionmaker(reader, expire_on_commit=False)
        self._writes = async_sessionmaker(self.writer, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, pool_size: int = 20) -> Database:
        """`pool_size` connections, kept open: about the requests one process serves at once."""
        if url.startswith("sqlite"):
            reader = create_async_engine(url, pool_size=8, max_overflow=8)
            writer = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
            _sqlite_pragmas(reader)
            _sqlite_pragmas(writer)
            _begin_immediate(writer)
            return cls(url, reader, writer)
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=30)
        _ping_when_idle(engine)
        _drop_confused_connections(engine)
        return cls(url, engine, engine)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        return (self.reader,) if self.reader is self.writer else (self.reader, self.writer)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short session for reads on the primary, never shared between tasks (requests share one
        through `RequestContext.read()`; jobs, commands, sockets and subscription replays use this,
        so they never see a replica's past)."""
        release = release_shared_read.get()
        if release is not None:
            await release()
        async with self._reads() as session:
            yield session

    def session(self) -> AsyncSession:
        """A read session the caller closes (core/shared_read.py): on the replica
        `route_reads` chose for this request, else on the primary."""
        replica = _replica.get()
        return self._reads() if replica is None else self._reads(bind=replica)

    async def route_reads(self, user_id: int | None) -> None:
        """Send the rest of this request's shared reads to a replica that has everything
        `user_id` wrote (core/replicas.py); a no-op without replicas. Every other read (jobs,
        commands, sockets and subscriptions, the token check) stays on the primary."""
        if self.router is None:
            return
        replica = await self.router.choose(user_id)
        if replica is not None:
            release = release_shared_read.get()
            if release is not None:
                await release()  # the token check may have opened it on the primary
        _replica.set(replica)

    async def remember_write(self, user_id: int) -> None:
        """After a commit for `user_id`: their next requests read what it wrote, wherever they land."""
        if self.router is not None:
            release = release_shared_read.get()
            if release is not None:
                await release()
            await self.router.remember_write(user_id)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back on any error."""
        release = release_shared_read.get()
        if release is not None:
            await release()
        marker = transaction_open.set(True)
        try:
            async with self._writes.begin() as session:
                yield session
        finally:
            transaction_open.reset(marker)
        # What this request reads next includes what it just wrote.
        _replica.set(None)

    async def ping(self) -> None:
        async with self.reader.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        if self.router is not None:
            await self.router.close()
        for engine in self.engines:
            await engine.dispose()
