"""The unit of work: one transaction per mutation, its rules checked inside it, its effects after it.

A write opens one `UnitOfWork` (`async with ctx.write() as work:` in a request, `unit_of_work(services)`
in a job). Inside the block:
- every read the request makes (its loaders included) goes through the transaction, so a rule is
  checked against what the write will commit on top of;
- `lock_pair` and `lock_users` serialize the writes that a rule depends on (PostgreSQL; SQLite's one
  writer connection already runs one write transaction at a time, begun IMMEDIATE);
- effects are queued, never run: `outbox` rows (feed fan-out, storage deletes) are written in the
  same transaction; `publish` and `after_commit` callbacks wait for the commit.
After a successful commit the outbox is kicked and the callbacks run; on any error the transaction
rolls back and nothing queued happens. No network call is made while the transaction is open.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.errors import WriteConflict
from core.observability import WRITE_CONFLICTS
from models import User
from subscriptions import PublishFailed, user_channel

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.outbox import Claimed
    from core.services import Services
    from subscriptions.events import EventPayload

log = logging.getLogger("ephemera.writes")

STORAGE_DELETE = "storage.delete"
# PostgreSQL gave up on this transaction so that others could go on: nothing was written, and the
# same write run again succeeds (SQLSTATE 40P01 deadlock_detected, 40001 serialization_failure).
RETRYABLE_STATES = {"40P01": "a deadlock", "40001": "a serialization failure"}


def _lock_key(*parts: object) -> int:
    """A signed 64-bit advisory-lock key for a named thing."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class UnitOfWork:
    def __init__(
        self, services: Services, session: AsyncSession, forget: Callable[[], None] | None = None
    ) -> None:
        self.services = services
        self.session = session
        # Drops what the request read so far: after a lock is granted, rules read afresh.
        self._forget = forget or (lambda: None)
        self._postgres = not services.db.is_sqlite
        self._lock = asyncio.Lock()
        self._after_commit: list[Callable[[], Awaitable[object]]] = []
        self._wrote_outbox = False
        self._run_now: list[Claimed] = []

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncSession]:
        """The transaction's session for one read; loader batches take it in turn."""
        async with self._lock:
            yield self.session

    async def lock_pair(self, a: int, b: int) -> None:
        """Serialize writes about two users (follow, block, messages between them) until commit."""
        await self.lock("pair", min(a, b), max(a, b))

    async def lock_pairs(self, viewer: int, others: Iterable[int]) -> None:
        """`lock_pair` with several users, in one order for every writer (no deadlock)."""
        for other in sorted(set(others)):
            await self.lock_pair(viewer, other)

    async def lock_users(self, user_ids: Iterable[int]) -> None:
        """Hold the users' rows as read (FOR SHARE) until commit: a concurrent change to them (a
        switch to private) waits for this transaction, and this one reads the committed row."""
        ids = sorted(set(user_ids))
        if self._postgres and ids:
            await self.session.execute(select(User.id).where(User.id.in_(ids)).with_for_update(read=True))
        self._forget()

    async def lock(self, *name: object) -> None:
        """A named lock held until commit (a PostgreSQL advisory lock; SQLite has one writer)."""
        if self._postgres:
            statement = text("SELECT pg_advisory_xact_lock(:key)").bindparams(bindparam("key"))
            await self.session.execute(statement, {"key": _lock_key(*name)})
        self._forget()

    def outbox(self, kind: str, payload: dict[str, Any], *, before_answer: bool = False) -> None:
        """Work for after the commit, written in this transaction (see core/outbox.py). It runs in
        the background, or with `before_answer` right after the commit, before the mutation
        answers (for what the writer reads next: a follow's posts in their feed)."""
        # Work for before the answer is written claimed by this write: no drain runs it first.
        row = self.services.outbox.add(self.session, self.services, kind, payload, claimed=before_answer)
        if before_answer:
            self._run_now.append(row)
        else:
            self._wrote_outbox = True

    def delete_objects(self, keys: Iterable[str]) -> None:
        """Storage objects that go once this commits (and are kept if it rolls back)."""
        listed = list(dict.fromkeys(keys))
        if listed:
            self.outbox(STORAGE_DELETE, {"keys": listed})

    def publish(self, user_ids: Iterable[int], event: EventPayload) -> None:
        """A live event to each user after the commit. A broker outage loses only live delivery:
        the data is committed and clients catch up (afterSeq)."""
        users = list(dict.fromkeys(user_ids))
        if users:
            self._after_commit.append(lambda: publish_to_users(self.services, users, event))

    def after_commit(self, effect: Callable[[], Awaitable[object]]) -> None:
        self._after_commit.append(effect)

    async def _committed(self) -> None:
        if self._run_now:
            try:
                await self.services.outbox.run_claimed(self.services, self._run_now)
            except Exception:
                log.exception("after-commit work failed; the outbox drain retries it")
        if self._wrote_outbox:
            self.services.outbox.kick(self.services)
        for effect in self._after_commit:
            try:
                await effect()
            except Exception:
                log.exception("an after-commit effect failed; the write itself is committed")


@asynccontextmanager
async def unit_of_work(
    services: Services, forget: Callable[[], None] | None = None, *, writer: int | None = None
) -> AsyncIterator[UnitOfWork]:
    """One transaction: committed when the block ends, then its effects run; rolled back on error.

    `writer`: the signed-in user the write is for. Their commit position is recorded (read replicas,
    core/replicas.py) before any effect runs: a client that refetches when the live event arrives
    must find the write, wherever its read lands.

    A uniqueness or reference violation that a concurrent write caused, or a transaction PostgreSQL
    aborted to break a deadlock or a serialization failure, becomes WriteConflict (CONFLICT,
    retryable) instead of an unexpected error."""
    try:
        async with services.db.write() as session:
            work = UnitOfWork(services, session, forget)
            yield work
    except IntegrityError as exc:
        raise WriteConflict() from exc
    except DBAPIError as exc:
        what = RETRYABLE_STATES.get(str(getattr(exc.orig, "sqlstate", "")))
        if what is None:
            raise
        log.warning("a write was rolled back by %s; the client is told to retry", what)
        WRITE_CONFLICTS.labels("deadlock" if what == "a deadlock" else "serialization").inc()
        raise WriteConflict() from exc
    if writer is not None:
        try:
            await services.db.remember_write(writer)
        except Exception:
            # The write is committed; only read-your-writes on a replica is at risk (for max_lag).
            log.warning("could not record the write position of user %s", writer, exc_info=True)
    await work._committed()


async def publish_to_users(services: Services, user_ids: Iterable[int], event: EventPayload) -> None:
    """Publish to each user's channel; a broker outage is logged, not raised (see `publish`)."""

    async def one(user_id: int) -> None:
        try:
            await services.pubsub.publish(user_channel(user_id), event)
        except PublishFailed as exc:
            log.warning("%s", exc)

    await asyncio.gather(*(one(user_id) for user_id in dict.fromkeys(user_ids)))
