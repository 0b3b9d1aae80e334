"""Node ids for the id generator, leased through the database so no two live processes share one.

Each process takes a free node id (0..1023) at start-up: one whose lease row is absent or has
expired. It renews the lease every third of its length and uses the id only until a margin
before the lease ends (`IdGenerator.valid_until`, on the monotonic clock), so an id it can no
longer renew (the database unreachable for a whole lease) is never used past the point another
process could take it. A process that takes over an expired lease starts its ids after that
lease's end, so its ids sort after the previous holder's. A renewal that finds the row taken
leases a new node id. Lease times are the hosts' wall clocks (liveness, not application time):
hosts must agree within MARGIN, which NTP gives.

NODE_ID, when set, skips all this: the operator then guarantees uniqueness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.database import Database
from core.ids import NODE_BITS, IdGenerator
from models import IdNodeLease

log = logging.getLogger("ephemera.ids")

NODE_IDS = 1 << NODE_BITS
LEASE_SECONDS = 60
MARGIN_SECONDS = 10


class NoFreeNodeId(RuntimeError):
    pass


class NodeLease:
    def __init__(self, db: Database, ids: IdGenerator, lease_seconds: int = LEASE_SECONDS) -> None:
        if lease_seconds <= 2 * MARGIN_SECONDS:
            raise ValueError("a lease must be longer than twice the safety margin")
        self.db = db
        self.ids = ids
        self.lease_seconds = lease_seconds
        self.holder = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.node_id: int | None = None
        self._renewer: asyncio.Task[None] | None = None

    @property
    def renew_interval(self) -> float:
        return self.lease_seconds / 3

    async def acquire(self) -> int:
        """Lease a free node id and hand it to the generator."""
        started = time.monotonic()
        now_ms = _wall_ms()
        async with self.db.write() as session:
            leases = await session.execute(select(IdNodeLease.node_id, IdNodeLease.expires_at_ms))
            ended = {row.node_id: row.expires_at_ms for row in leases}
            free = [n for n in range(NODE_IDS) if ended.get(n, 0) <= now_ms]
            random.shuffle(free)  # processes starting together rarely try the same one
            for candidate in free:
                insert = (postgresql if not self.db.is_sqlite else sqlite).insert(IdNodeLease)
                stmt = (
                    insert.values(node_id=candidate, holder=self.holder, expires_at_ms=now_ms + self._ms())
                    .on_conflict_do_update(
                        index_elements=["node_id"],
                        set_={"holder": self.holder, "expires_at_ms": now_ms + self._ms()},
                        where=IdNodeLease.expires_at_ms <= now_ms,
                    )
                    .returning(IdNodeLease.node_id)
                )
                if (await session.execute(stmt)).first() is not None:
                    break
            else:
                raise NoFreeNodeId(f"all {NODE_IDS} node ids are leased by live processes")
        previous_end = ended.get(candidate)
        self.ids.hold(
            candidate,
            valid_until=started + self.lease_seconds - MARGIN_SECONDS,
            start_after=datetime.fromtimestamp(previous_end / 1000, UTC) if previous_end else None,
        )
        self.node_id = candidate
        log.info("leased node id %d for generated ids", candidate)
        return candidate

    async def renew(self) -> None:
        """Extend the lease; when it was lost (expired and taken), lease another node id."""
        started = time.monotonic()
        async with self.db.write() as session:
            result = await session.execute(
                update(IdNodeLease)
                .where(IdNodeLease.node_id == self.node_id, IdNodeLease.holder == self.holder)
                .values(expires_at_ms=_wall_ms() + self._ms())
            )
        if getattr(result, "rowcount", 0) == 1 and self.node_id is not None:
            self.ids.hold(self.node_id, valid_until=started + self.lease_seconds - MARGIN_SECONDS)
            return
        log.warning("the lease of node id %s was lost; leasing another", self.node_id)
        await self.acquire()

    def keep_renewed(self) -> None:
        """Renew in the background for as long as the process holds the lease (until `release`)."""
        if self._renewer is None:
            self._renewer = asyncio.create_task(self._renew_forever(), name="id-lease")

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.renew_interval)
            try:
                await self.renew()
            except Exception:
                # Ids stop being handed out when the lease runs out (IdGenerator.valid_until).
                log.warning("could not renew the id lease; retrying", exc_info=True)

    async def release(self) -> None:
        """Stop renewing and let another process take the node id at once (on a clean shutdown)."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        if self.node_id is None:
            return
        async with self.db.write() as session:
            await session.execute(
                update(IdNodeLease)
                .where(IdNodeLease.node_id == self.node_id, IdNodeLease.holder == self.holder)
                .values(expires_at_ms=_wall_ms())
            )

    def _ms(self) -> int:
        return self.lease_seconds * 1000


def _wall_ms() -> int:
    return int(time.time() * 1000)
