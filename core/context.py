"""What a resolver works with: the app's services and one request's viewer and loaders."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from core.errors import Unauthenticated

# The app's services are defined below the unit of work (which takes them); resolvers get them here.
from core.services import Services as Services
from core.unit_of_work import UnitOfWork, unit_of_work

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.shared_read import SharedRead


T = TypeVar("T")

# Where a function that may run inside or outside a request gets its read sessions.
Reader = Callable[[], AbstractAsyncContextManager["AsyncSession"]]


@dataclass
class Viewer:
    user_id: int
    token_id: int


@dataclass
class RequestContext:
    services: Services
    viewer: Viewer | None = None
    client_addr: str = "unknown"
    user_agent: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    loaders: dict[type, Any] = field(default_factory=dict)
    # Filled by strawberry with the graphql-transport-ws connection_init payload.
    connection_params: dict[str, Any] | None = None
    # Set by the HTTP view only: sockets and subscription events read through short sessions.
    shared_read: SharedRead | None = None
    # The open write of this request, if any: reads then go through its transaction.
    work: UnitOfWork | None = None
    # Set by the HTTP view only: what the request's remaining operations (a batch) may still cost.
    cost_left: int | None = None

    @property
    def viewer_id(self) -> int | None:
        return self.viewer.user_id if self.viewer else None

    def require_viewer(self) -> int:
        if self.viewer is None:
            raise Unauthenticated()
        return self.viewer.user_id

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for this request's reads: run statements only, never await a loader inside.

        Inside `write()` this is the write's own transaction, so rules are checked on what it will
        commit on top of."""
        if self.work is not None:
            async with self.work.use() as session:
                yield session
        elif self.shared_read is None:
            async with self.services.db.read() as session:
                yield session
        else:
            async with self.shared_read.use() as session:
                yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """The unit of work of one mutation (core/unit_of_work.py). Loaders are emptied when it opens
        (rules read afresh, inside the transaction) and again when it ends (later fields see the
        committed state, or the unchanged one after a rollback). After a commit, and before its
        effects (live events) go out, the viewer's position is recorded: their later requests read
        what it wrote, even from a read replica (core/replicas.py)."""
        if self.work is not None:
            raise RuntimeError("a write is already open in this request")
        self.loaders.clear()
        try:
            async with unit_of_work(self.services, forget=self.loaders.clear, writer=self.viewer_id) as work:
                self.work = work
                try:
                    yield work
                finally:
                    self.work = None
        finally:
            self.loaders.clear()

    async def each_event(self, events: AsyncIterator[T]) -> AsyncIterator[T]:
        """A subscription's events, each resolved with new loaders: a socket's context lives long,
        and an event must not show what an earlier one loaded."""
        async for event in events:
            self.loaders.clear()
            yield event

    def fresh(self) -> RequestContext:
        """The same viewer with empty loaders: one per subscription event (a socket lives long)."""
        return RequestContext(self.services, self.viewer, self.client_addr, self.request_id)
