"""`python -m commands` with probes for `bench.delivery`: each SIGUSR2 writes the process's collector
and event-loop figures to $BENCH_PROBES/probe-N.json (N = 1, 2, ...); under tracemalloc, each
SIGUSR1 dumps a snapshot of the traced allocations to $BENCH_SNAPSHOTS/snapshot-N.

    python -m bench.probed_server serve
    python -X tracemalloc=25 -m bench.probed_server serve

A probe reports the objects the collector tracks (its generations plus what `gc.freeze()` moved
out of them; the most numerous types of those not frozen), the longest lateness of a monitor task
that sleeps 10 ms at a time (the longest the event loop was stopped: a long collection, a blocking
call) and the full collections since the previous probe. The first probe starts the monitor; a
probe's own walk of the heap is not counted as a stall.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import signal
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

from commands import main

TICK = 0.01
TYPES = 60  # the most numerous types of tracked objects, by count
_snapshots = itertools.count(1)
_probes = itertools.count(1)


class Monitor:
    def __init__(self) -> None:
        self.stall = 0.0
        self.skip = False  # the next sample spans a probe's own walk of the heap
        self.full_collections = 0
        self.full_seconds = 0.0
        self.longest_full = 0.0
        self._started: float | None = None
        self.task: asyncio.Task[None] | None = None
        gc.callbacks.append(self._collected)

    def _collected(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            took = time.perf_counter() - self._started
            self.full_collections += 1
            self.full_seconds += took
            self.longest_full = max(self.longest_full, took)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(TICK)
            late = loop.time() - before - TICK
            if self.skip:
                self.skip = False
            else:
                self.stall = max(self.stall, late)

    def read(self) -> dict[str, Any]:
        frozen = gc.get_freeze_count()
        objects = gc.get_objects()  # not the frozen ones: unfreezing them would change the run
        types = Counter(type(obj).__qualname__ for obj in objects)
        del objects
        figures = {
            "objects": sum(types.values()) + frozen,
            "unfrozen_types": dict(types.most_common(TYPES)),
            "frozen": frozen,
            "gc_thresholds": gc.get_threshold(),
            "longest_stall_ms": round(self.stall * 1000, 1),
            "full_collections": self.full_collections,
            "full_collection_seconds": round(self.full_seconds, 3),
            "longest_full_collection_ms": round(self.longest_full * 1000, 1),
        }
        self.stall, self.full_collections, self.full_seconds, self.longest_full = 0.0, 0, 0.0, 0.0
        self.skip = True
        return figures


_monitor = Monitor()


def probe(signum: int, frame: FrameType | None) -> None:
    if _monitor.task is None:
        _monitor.task = asyncio.get_running_loop().create_task(_monitor.run())
    path = Path(os.environ["BENCH_PROBES"]) / f"probe-{next(_probes)}.json"
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(_monitor.read()))
    partial.rename(path)  # whole or not there: the bench waits for the name


def dump_snapshot(signum: int, frame: FrameType | None) -> None:
    path = Path(os.environ["BENCH_SNAPSHOTS"]) / f"snapshot-{next(_snapshots)}"
    partial = path.with_suffix(".partial")
    tracemalloc.take_snapshot().dump(str(partial))
    partial.rename(path)


def no_freeze(heap: Any) -> None:
    heap.opened = 0


if __name__ == "__main__":
    if os.environ.get("BENCH_NO_FREEZE"):  # every object stays in sight of the probe's count by type
        from server.socket_heap import SocketHeap

        SocketHeap.freeze = no_freeze  # type: ignore[method-assign,assignment]
    signal.signal(signal.SIGUSR2, probe)
    if tracemalloc.is_tracing():
        signal.signal(signal.SIGUSR1, dump_snapshot)
    sys.exit(main())
