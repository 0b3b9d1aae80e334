"""What a WebSocket keeps lives as long as the socket: out of the collector's generations.

An idle subscription holds a few hundred Python objects (the handler, its operation, the
generators, uvicorn's and websockets' protocol state). Left in the collector's generations they are
walked by every full collection, and at thousands of sockets a full collection stops the event
loop for most of a second: the tail of every delivery, the slowest `/healthz` answer, and most of
the CPU spent opening sockets (docs/benchmarks.md, message delivery).

So the sockets' objects are frozen (`gc.freeze()`) in batches, once at least `batch` sockets are
open: when `batch` sockets have opened since the last freeze, or `settle` seconds after the last
open. A freeze first collects the young
generations, so what is garbage already is not frozen with the rest.

Frozen objects are never collected, so what a closed socket leaves in reference cycles stays until
they are unfrozen: once the sockets closed since the last unfreeze reach a quarter of those open
(and at least `batch`), everything is unfrozen and the collector's own rule (a full collection
when the old generation grew by a quarter) reclaims it, once; the next opens freeze again.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

FREEZE_BATCH = 200
SETTLE_SECONDS = 1.0


class SocketHeap:
    __slots__ = (
        "_freeze",
        "_timer",
        "_unfreeze",
        "batch",
        "closed",
        "freezes",
        "live",
        "opened",
        "settle",
        "unfreezes",
    )

    def __init__(
        self,
        batch: int = FREEZE_BATCH,
        settle: float = SETTLE_SECONDS,
        freeze: Callable[[], None] | None = None,
        unfreeze: Callable[[], None] | None = None,
    ) -> None:
        self.batch = batch
        self.settle = settle
        self.live = 0  # sockets open
        self.opened = 0  # sockets opened since the last freeze
        self.closed = 0  # sockets closed since the last unfreeze
        self.freezes = 0
        self.unfreezes = 0
        self._freeze = freeze or _freeze
        self._unfreeze = unfreeze or gc.unfreeze
        self._timer: asyncio.TimerHandle | None = None

    def open(self) -> None:
        self.live += 1
        self.opened += 1
        if self.live < self.batch:
            return  # a few sockets cost a full collection little: nothing frozen for them
        if self.opened >= self.batch:
            self.freeze()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.settle, self.freeze)

    def close(self) -> None:
        self.live -= 1
        self.closed += 1
        if self.closed >= max(self.batch, self.live // 4):
            self.unfreezes += 1
            self.closed = 0
            self._unfreeze()

    def freeze(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.opened == 0:
            return
        self.freezes += 1
        self.opened = 0
        self._freeze()


def _freeze() -> None:
    gc.collect(1)
    gc.freeze()
