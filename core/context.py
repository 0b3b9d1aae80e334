"""What a resolver works with: the app's services and one request's viewer and loaders."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.clock import Clock
from core.database import Database
from core.errors import Unauthenticated
from core.ids import IdGenerator
from core.passwords import Passwords
from core.ratelimit import RateLimiter
from media.storage import Storage
from media.workers import WorkerPool
from subscriptions import PubSub

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.shared_read import SharedRead
    from settings import Settings


# Where a function that may run inside or outside a request gets its read sessions.
Reader = Callable[[], AbstractAsyncContextManager["AsyncSession"]]


@dataclass
class Services:
    """Built once per process by the app factory; shared by every request."""

    settings: Settings
    db: Database
    clock: Clock
    ids: IdGenerator
    passwords: Passwords
    limiter: RateLimiter
    storage: Storage
    pubsub: PubSub
    media_workers: WorkerPool
    redis: Redis | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class Viewer:
    user_id: int
    token_id: int


@dataclass
class RequestContext:
    services: Services
    viewer: Viewer | None = None
    client_addr: str = "unknown"
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    loaders: dict[type, Any] = field(default_factory=dict)
    # Filled by strawberry with the graphql-transport-ws connection_init payload.
    connection_params: dict[str, Any] | None = None
    # Set by the HTTP view only: sockets and subscription events read through short sessions.
    shared_read: SharedRead | None = None

    @property
    def viewer_id(self) -> int | None:
        return self.viewer.user_id if self.viewer else None

    def require_viewer(self) -> int:
        if self.viewer is None:
            raise Unauthenticated()
        return self.viewer.user_id

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for this request's reads: run statements only, never await a loader inside."""
        if self.shared_read is None:
            async with self.services.db.read() as session:
                yield session
        else:
            async with self.shared_read.use() as session:
                yield session

    def forget_loaded(self) -> None:
        """Drop every memoized load: called after a write so later fields see it."""
        self.loaders.clear()

    def fresh(self) -> RequestContext:
        """The same viewer with empty loaders: one per subscription event (a socket lives long)."""
        return RequestContext(self.services, self.viewer, self.client_addr, self.request_id)
