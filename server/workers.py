"""Several worker processes on one listening socket, watched by the process that bound it.

`ephemera serve --workers N` (or WEB_CONCURRENCY=N) binds HOST:PORT once (SO_REUSEPORT; a port in
use is said first), then starts N workers (multiprocessing's spawn: fresh interpreters, no state
copied from this one), each listening on its own SO_REUSEPORT socket at that address: the kernel
spreads new connections evenly over them. This supervisor:
- says "listening" once every worker has opened its services and serves;
- stops everything with status 2 when a worker cannot start, saying why in the one line the
  worker reported (a mistake in the environment stops every worker the same way: said once);
- replaces a worker that dies later, and lets Prometheus forget its live gauges;
- on SIGTERM or SIGINT asks each worker to drain (SIGTERM) and waits for them. Workers live in
  process groups of their own, so a terminal's Ctrl+C reaches them once, through here; and each
  stops by itself if the supervisor disappears.

Metrics: every worker writes its samples to a folder the supervisor creates
(PROMETHEUS_MULTIPROC_DIR, read by prometheus_client when a worker imports it), and /metrics,
whichever worker answers, reads them all (server/routes.py).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any

from settings import Settings

log = logging.getLogger("ephemera.workers")

STARTUP_FAILED = 2
DRAIN_SECONDS = 15.0  # uvicorn's graceful shutdown (10 s) and closing the services
_spawn = multiprocessing.get_context("spawn")


class Link:
    """A worker's end of its pipe to the supervisor."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ready(self) -> None:
        self.conn.send(("ready", ""))

    def failed(self, line: str) -> None:
        """Why the worker cannot start: the supervisor says it once, then stops with status 2."""
        self.conn.send(("failed", line))


# target(settings, sock, link): serve until SIGTERM; link.ready() once serving, or
# link.failed(line) and exit when the environment keeps it from starting.
WorkerTarget = Callable[[Settings, socket.socket, Link], None]


@dataclass
class Worker:
    index: int
    process: SpawnProcess
    conn: Connection  # the supervisor's end: "ready" arrives here; its closing tells the worker
    ready: bool = False
    failure: str | None = None


def worker_main(
    target: WorkerTarget, settings: Settings, family: int, address: Any, conn: Connection
) -> None:
    """What each worker process runs."""
    os.setpgrp()  # signals come from the supervisor only
    threading.Thread(target=_stop_with_supervisor, args=(conn,), daemon=True).start()
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    try:
        target(settings, sock, Link(conn))
    finally:
        sock.close()


def _stop_with_supervisor(conn: Connection) -> None:
    with contextlib.suppress(EOFError, OSError):
        while True:
            conn.recv()
    os.kill(os.getpid(), signal.SIGTERM)


class Supervisor:
    def __init__(self, settings: Settings, sock: socket.socket, target: WorkerTarget) -> None:
        self.settings = settings
        self.sock = sock
        self.target = target
        self.workers: list[Worker] = []
        self.stopping = False

    def run(self, on_started: Callable[[], None]) -> int:
        """Serve until a signal; the exit status."""
        with _metrics_folder() as metrics_dir, _signals(self._stop):
            self.settings = replace(self.settings, metrics_dir=metrics_dir)
            self.workers = [self._start(index) for index in range(self.settings.web_concurrency)]
            announced = False
            while not self.stopping:
                self._wait()
                if any(w.process.exitcode is not None for w in self.workers) and not self.stopping:
                    status = self._replace_dead(metrics_dir, started=announced)
                    if status is not None:
                        self._stop_all()
                        return status
                if not announced and all(w.ready for w in self.workers):
                    announced = True
                    on_started()
            self._stop_all()
            return 0

    def _start(self, index: int) -> Worker:
        parent, child = _spawn.Pipe()
        process = _spawn.Process(
            target=worker_main,
            args=(self.target, self.settings, self.sock.family, self.sock.getsockname(), child),
            name=f"ephemera-worker-{index}",
        )
        process.start()
        child.close()
        return Worker(index, process, parent)

    def _wait(self) -> None:
        sentinels: list[Any] = [w.process.sentinel for w in self.workers]
        for ready in wait([*sentinels, *(w.conn for w in self.workers if not w.ready)], timeout=0.5):
            for worker in self.workers:
                if ready is worker.conn:
                    with contextlib.suppress(EOFError, OSError):
                        kind, line = worker.conn.recv()
                        worker.ready = kind == "ready"
                        worker.failure = line if kind == "failed" else None

    def _replace_dead(self, metrics_dir: Path, *, started: bool) -> int | None:
        """Start a new worker for each dead one; the status to stop with instead, if any."""
        for position, worker in enumerate(self.workers):
            code = worker.process.exitcode
            if code is None:
                continue
            worker.process.join()
            self._collect_failure(worker)
            worker.conn.close()
            _forget_metrics(worker.process.pid, metrics_dir)
            if code == STARTUP_FAILED or not worker.ready:
                if worker.failure:
                    print(f"ephemera: {worker.failure}", file=sys.stderr, flush=True)
                else:
                    log.error("worker %d exited with status %s before it served", worker.index, code)
                return STARTUP_FAILED
            pid = worker.process.pid
            log.warning("worker %d (pid %s) exited with status %s; starting another", worker.index, pid, code)
            self.workers[position] = self._start(worker.index)
        return None

    def _collect_failure(self, worker: Worker) -> None:
        """A "failed" message still in the pipe of a worker that has exited."""
        with contextlib.suppress(EOFError, OSError):
            while worker.failure is None and worker.conn.poll():
                kind, line = worker.conn.recv()
                worker.failure = line if kind == "failed" else None

    def _stop(self) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        for worker in self.workers:
            if worker.process.exitcode is None and worker.process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + DRAIN_SECONDS
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.exitcode is None:
                log.warning("worker %d did not stop in %.0f s; killing it", worker.index, DRAIN_SECONDS)
                worker.process.kill()
                worker.process.join()
            worker.conn.close()


@contextmanager
def _metrics_folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="ephemera-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)  # inherited by the workers spawned below
    try:
        yield path
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(path, ignore_errors=True)


def _forget_metrics(pid: int | None, path: Path) -> None:
    if pid is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]


@contextmanager
def _signals(stop: Callable[[], None]) -> Iterator[None]:
    previous = {sig: signal.signal(sig, lambda *_: stop()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
