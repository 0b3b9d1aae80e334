"""`python -m commands` under tracemalloc, for `bench.delivery --tracemalloc`: each SIGUSR1 dumps a
snapshot of the traced allocations to $BENCH_SNAPSHOTS/snapshot-N (N = 1, 2, ...).

    python -X tracemalloc=25 -m bench.traced_server serve
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

from commands import main

_numbers = itertools.count(1)


def dump_snapshot(signum: int, frame: FrameType | None) -> None:
    path = Path(os.environ["BENCH_SNAPSHOTS"]) / f"snapshot-{next(_numbers)}"
    partial = path.with_suffix(".partial")
    tracemalloc.take_snapshot().dump(str(partial))
    partial.rename(path)  # whole or not there: the bench waits for the name


if __name__ == "__main__":
    if not tracemalloc.is_tracing():
        sys.exit("run with python -X tracemalloc=FRAMES")
    signal.signal(signal.SIGUSR1, dump_snapshot)
    sys.exit(main())
