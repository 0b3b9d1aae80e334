"""The outbox: work a transaction leaves for after its commit (feed fan-out, storage deletes).

Rows are written by the unit of work in the transaction they follow, so a crash after the commit
loses nothing. Draining claims a batch in one short transaction (FOR UPDATE SKIP LOCKED on
PostgreSQL, so processes share the work) by moving `available_at` a lease ahead, runs each row's
handler with no transaction open, and deletes the rows whose handler succeeded. A failed row, or
one whose worker died, becomes claimable again when its lease ends; a row that keeps failing waits
twice as long after each attempt (up to ten minutes), so a server that is down is not hammered.
Handlers are idempotent.

Right after a commit that wrote rows, the unit of work `kick`s a drain in the background; a
periodic job in every process drains whatever that missed. Rows a write runs before it answers
(`before_answer`) are written already claimed, leased to that write: no drain can take them
between the commit and the write running them; if it fails, they are the drain's after the lease.

A row claimed `max_attempts` times without succeeding is a dead letter: set aside (its
`available_at` moved to DEAD_LETTER, never due), logged as an error and counted in
ephemera_outbox_dead_letters_total; docs/operations.md says how to requeue it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from sqlalchemy import delete, select, update

from core.observability import OUTBOX_DEAD
from core.sql import skip_locked
from models import Outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.clock import Clock
    from core.database import Database
    from core.ids import IdGenerator

log = logging.getLogger("ephemera.outbox")

MAX_BACKOFF = timedelta(minutes=10)


class Adapters(Protocol):
    """What the drain itself uses of the services it is given (core/services.py's `Services`); the
    handlers get those services whole."""

    @property
    def clock(self) -> Clock: ...

    @property
    def ids(self) -> IdGenerator: ...

    @property
    def db(self) -> Database: ...


S = TypeVar("S", bound=Adapters)
Handler = Callable[[S, dict[str, Any]], Awaitable[None]]
# A claimed row: (id, kind, payload, attempts so far, this one included).
Claimed = tuple[int, str, dict[str, Any], int]
# Where a dead letter's `available_at` goes: never due, still in the table to be looked at.
DEAD_LETTER = datetime(9999, 1, 1, tzinfo=UTC)


class OutboxDrain(Generic[S]):
    def __init__(
        self,
        handlers: Mapping[str, Handler[S]],
        *,
        batch: int = 100,
        lease_seconds: int = 60,
        max_attempts: int = 60,
    ) -> None:
        self.handlers = handlers
        self.batch = batch
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self._in_flight: set[asyncio.Task[int]] = set()

    def add(
        self,
        session: AsyncSession,
        services: S,
        kind: str,
        payload: dict[str, Any],
        *,
        claimed: bool = False,
    ) -> Claimed:
        """A row written in the caller's transaction; `claimed`: already leased to the caller, who
        runs it after the commit (`run_claimed`), so no drain takes it first."""
        if kind not in self.handlers:
            raise ValueError(f"no outbox handler for {kind!r}")
        now = services.clock.now()
        row_id = services.ids.next_id()
        attempts = 1 if claimed else 0
        session.add(
            Outbox(
                id=row_id,
                kind=kind,
                payload=payload,
                available_at=now + self.lease if claimed else now,
                attempts=attempts,
                created_at=now,
            )
        )
        return row_id, kind, payload, attempts

    def kick(self, services: S) -> None:
        """Drain now, off the request path; the periodic job catches whatever this misses."""
        task = asyncio.create_task(self.drain(services))
        self._in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[int]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("outbox drain failed; the periodic job will retry", exc_info=task.exception())

    async def wait_in_flight(self) -> None:
        """Let drains already started finish (before the process closes its adapters)."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def settle(self, services: S) -> None:
        """Wait for in-flight drains, then drain what is left (one-shot commands, and tests
        instead of sleeping)."""
        await self.wait_in_flight()
        await self.drain(services)

    async def drain(self, services: S) -> int:
        """Run every row that is due; how many succeeded."""
        done = 0
        while True:
            claimed = await self._claim(services)
            done += await self._run(services, claimed)
            if len(claimed) < self.batch:
                return done

    async def run_claimed(self, services: S, rows: list[Claimed]) -> int:
        """Run rows written claimed (`add(claimed=True)`) once their transaction committed: what a
        write needs before it answers. Any that fail stay for the drain, after their lease."""
        return await self._run(services, rows)

    def backoff(self, attempts: int) -> timedelta:
        """How long a row waits after failing its `attempts`-th run: the lease, doubling, at most 10 min."""
        wait: timedelta = self.lease * 2 ** min(max(attempts - 1, 0), 16)
        return min(wait, max(self.lease, MAX_BACKOFF))

    async def _run(self, services: S, claimed: list[Claimed]) -> int:
        succeeded: list[int] = []
        dead: list[int] = []
        failed: list[tuple[int, int]] = []
        for row_id, kind, payload, attempts in claimed:
            if attempts > self.max_attempts:  # its workers died mid-run, again and again
                dead.append(row_id)
                self._dead_letter(kind, row_id, attempts - 1, "no run ever finished")
                continue
            try:
                await self.handlers[kind](services, payload)
            except Exception as exc:
                if attempts >= self.max_attempts:
                    dead.append(row_id)
                    self._dead_letter(kind, row_id, attempts, repr(exc))
                else:
                    log.warning("outbox %s %s failed; retried after a backoff", kind, row_id, exc_info=True)
                    failed.append((row_id, attempts))
            else:
                succeeded.append(row_id)
        if succeeded or dead or failed:
            now = services.clock.now()
            async with services.db.write() as session:
                if succeeded:
                    await session.execute(delete(Outbox).where(Outbox.id.in_(succeeded)))
                if dead:
                    await session.execute(
                        update(Outbox)
                        .where(Outbox.id.in_(dead))
                        .values(available_at=DEAD_LETTER)
                        .execution_options(synchronize_session=False)
                    )
                for row_id, attempts in failed:
                    await session.execute(
                        update(Outbox)
                        .where(Outbox.id == row_id)
                        .values(available_at=now + self.backoff(attempts))
                        .execution_options(synchronize_session=False)
                    )
        return len(succeeded)

    def _dead_letter(self, kind: str, row_id: int, attempts: int, why: str) -> None:
        OUTBOX_DEAD.labels(kind).inc()
        log.error(
            "outbox %s %s set aside as a dead letter after %d attempts (last: %s); "
            "see docs/operations.md to requeue it",
            kind,
            row_id,
            attempts,
            why,
        )

    async def _claim(self, services: S) -> list[Claimed]:
        now = services.clock.now()
        due = select(Outbox.id).where(Outbox.available_at <= now).order_by(Outbox.id).limit(self.batch)
        stmt = (
            update(Outbox)
            .where(Outbox.id.in_(skip_locked(due, services.db).scalar_subquery()))
            .values(available_at=now + self.lease, attempts=Outbox.attempts + 1)
            .returning(Outbox.id, Outbox.kind, Outbox.payload, Outbox.attempts)
            .execution_options(synchronize_session=False)
        )
        async with services.db.write() as session:
            rows = (await session.execute(stmt)).all()
        return sorted((row.id, row.kind, row.payload, row.attempts) for row in rows)
