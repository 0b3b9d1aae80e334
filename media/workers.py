"""A few worker processes for decoding untrusted media, with a time budget for each job.

A thread cannot be stopped, so a decoder that hangs on a crafted file (or crashes in a codec)
would keep a thread-pool worker forever, or take the server down. Here each job runs in a
worker process: one that overruns its budget is killed, one that dies is noticed, and either is
replaced by a fresh process for the next job. At most `size` jobs run at once; the rest wait.

An idle worker can die too (the OOM killer, an operator's `kill`): one found dead is dropped before
reuse, and a job that fails on a reused worker runs once more on a fresh one, so the worker's death
is never taken for a fault of the file. Each worker's address space is capped (RLIMIT_AS), so a
decoder asking for more memory than a sane file needs fails that job instead of the host.

Workers are plain `python` child processes (no `multiprocessing`, so nothing of the server is
re-imported in them) that talk pickle over their stdin/stdout. A worker decodes hostile input,
so the server trusts none of its answers: they are unpickled with only the classes the pool was
told about, plain values and built-in exceptions allowed.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import importlib
import io
import logging
import os
import pickle
import resource
import signal
import struct
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, ParamSpec, TypeVar, cast

log = logging.getLogger("ephemera.media")

P = ParamSpec("P")
T = TypeVar("T")

START_TIMEOUT = 60.0  # importing the decoders on a cold disk can be slow; not part of any job's budget
# A worker gets no more of the server's environment than Python needs: no credentials, no secrets.
_PASSED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")
_HEADER = struct.Struct(">Q")
_PROJECT = str(Path(__file__).resolve().parent.parent)
_ENTRY = "from media.workers import serve; serve()"
_READY = "ready"


class WorkerTimeout(Exception):
    """The job used up its time budget; its worker was killed."""


class WorkerCrashed(Exception):
    """The worker process died during the job (a signal, a hard exit), or answered nonsense."""


class WorkerUnavailable(Exception):
    """No worker could be started: the server's fault, not the job's (nothing was run)."""


class WorkerPool:
    def __init__(
        self,
        size: int,
        timeout: float,
        *,
        preload: Sequence[str] = (),
        results: Iterable[type] = (),
        memory_limit: int | None = None,
    ) -> None:
        """`preload`: modules each worker imports before taking jobs (so the budget is the job's
        alone); `results`: the classes a job's result or exception may contain; `memory_limit`:
        the most address space a worker may have, in bytes (None: no limit)."""
        if size < 1 or timeout <= 0:
            raise ValueError("a worker pool needs at least one worker and a positive time budget")
        self.size = size
        self.timeout = timeout
        self._preload = tuple(preload)
        self._memory_limit = memory_limit
        self._allowed = {(kind.__module__, kind.__qualname__) for kind in results}
        self._slots = asyncio.Semaphore(size)
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._ending: set[asyncio.Future[int]] = set()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in a worker; `fn` must be importable there, by module and name."""
        job = (fn, args, kwargs)
        async with self._slots:
            worker = self._take_idle()
            if worker is not None:
                try:
                    return cast(T, await self._call(worker, job))
                except WorkerCrashed:
                    # It may have died while idle, before the job reached it: not the file's fault.
                    log.warning("a reused media worker stopped during a job; it runs again on a fresh one")
            return cast(T, await self._call(await self._start(), job))

    def _take_idle(self) -> _Worker | None:
        """An idle worker that still looks alive; the dead ones found on the way are dropped."""
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                return worker
            log.warning("an idle media worker had stopped (exit code %s); replacing it", worker.exit_code)
            self._all.discard(worker)
            self._end(worker)
        return None

    async def _call(self, worker: _Worker, job: tuple[Any, ...]) -> Any:
        try:
            ok, value = await worker.call(job, self._allowed, budget=self.timeout)
        except BaseException:
            # Timed out, died, or the caller went away mid-job: this worker's state is unknown.
            self._all.discard(worker)
            self._end(worker)
            raise
        if isinstance(value, MemoryError):
            # Out of its address space: whatever the decoder left half built goes with the process.
            self._all.discard(worker)
            self._end(worker)
        else:
            self._idle.append(worker)
        if not ok:
            raise cast(BaseException, value)
        return value

    @property
    def processes(self) -> list[int]:
        """The pids of the live workers."""
        return sorted(worker.process.pid for worker in self._all)

    def _end(self, worker: _Worker) -> None:
        worker.kill()
        reaped = asyncio.ensure_future(worker.process.wait())  # reaped in the background
        self._ending.add(reaped)
        reaped.add_done_callback(self._ending.discard)

    async def _start(self) -> _Worker:
        worker = await _Worker.start(self._preload, self._memory_limit)
        self._all.add(worker)
        return worker

    async def close(self) -> None:
        """Stop every worker; jobs still running fail as crashed."""
        workers, self._all, self._idle = list(self._all), set(), []
        for worker in workers:
            self._end(worker)
        await asyncio.gather(*self._ending)


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @property
    def alive(self) -> bool:
        """False once the process is known to have ended (reaped, or its pipe closed)."""
        stdout = self.process.stdout
        return self.process.returncode is None and not (stdout is not None and stdout.at_eof())

    @property
    def exit_code(self) -> int | None:
        return self.process.returncode

    @classmethod
    async def start(cls, preload: tuple[str, ...], memory_limit: int | None) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _ENTRY,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=_environment(),
        )
        worker = cls(process)
        try:
            # The server's import path, so that jobs defined anywhere it can import resolve there too.
            await worker._send((sys.path, preload, memory_limit))
            async with asyncio.timeout(START_TIMEOUT):
                if pickle.loads(await worker._receive()) == _READY:
                    return worker
        except (OSError, TimeoutError, asyncio.IncompleteReadError, pickle.UnpicklingError):
            pass
        worker.kill()
        await process.wait()
        raise WorkerUnavailable(f"a media worker did not start (exit code {process.returncode})")

    async def call(
        self, job: tuple[Any, ...], allowed: set[tuple[str, str]], *, budget: float
    ) -> tuple[bool, Any]:
        try:
            await self._send(job)
            async with asyncio.timeout(budget):
                answer = await self._receive()
        except TimeoutError:
            self.kill()
            await self.process.wait()
            raise WorkerTimeout(f"took longer than {budget:g} seconds") from None
        except (OSError, asyncio.IncompleteReadError) as exc:
            code = await self.process.wait()
            raise WorkerCrashed(f"the worker stopped (exit code {code})") from exc
        try:
            ok, value = _RestrictedUnpickler(io.BytesIO(answer), allowed).load()
        except Exception as exc:
            raise WorkerCrashed(f"the worker answered something unexpected: {exc}") from None
        return bool(ok), value

    async def _send(self, message: object) -> None:
        data = pickle.dumps(message)
        assert self.process.stdin is not None
        self.process.stdin.write(_HEADER.pack(len(data)) + data)
        await self.process.stdin.drain()

    async def _receive(self) -> bytes:
        assert self.process.stdout is not None
        (length,) = _HEADER.unpack(await self.process.stdout.readexactly(_HEADER.size))
        return await self.process.stdout.readexactly(length)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()


def _environment() -> dict[str, str]:
    passed = {name: os.environ[name] for name in _PASSED_ENVIRONMENT if name in os.environ}
    return passed | {"PYTHONPATH": _PROJECT}


class _RestrictedUnpickler(pickle.Unpickler):
    """Plain values, built-in exceptions and the allowed classes; nothing else can be named."""

    def __init__(self, file: IO[bytes], allowed: set[tuple[str, str]]) -> None:
        super().__init__(file)
        self.allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.allowed:
            return super().find_class(module, name)
        found = getattr(builtins, name, None) if module == "builtins" else None
        if isinstance(found, type) and issubclass(found, Exception):
            return found
        raise pickle.UnpicklingError(f"{module}.{name} is not an allowed result")


def serve() -> None:
    """A worker's life: import what it is told, then run jobs until its stdin closes."""
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    channel_in = sys.stdin.buffer
    # Ctrl-C in a terminal reaches the whole process group: the server decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    path, preload, memory_limit = pickle.loads(_read(channel_in))
    sys.path[:] = path
    for module in preload:
        importlib.import_module(module)
    if memory_limit is not None:
        # After the imports: the cap is for what a job allocates (a decoder's frames), and a job
        # over it gets MemoryError (or its codec an allocation failure) instead of the host's memory.
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    _write(channel_out, pickle.dumps(_READY))
    while True:
        try:
            fn, args, kwargs = pickle.loads(_read(channel_in))
        except EOFError:  # the server closed the pipe: time to go
            return
        try:
            answer = pickle.dumps((True, fn(*args, **kwargs)))
        except Exception as exc:
            try:
                answer = pickle.dumps((False, exc))
            except Exception:  # an exception that does not pickle
                answer = pickle.dumps((False, RuntimeError(repr(exc))))
        _write(channel_out, answer)


def _read(channel: IO[bytes]) -> bytes:
    header = channel.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (length,) = _HEADER.unpack(header)
    data = channel.read(length)
    if len(data) < length:
        raise EOFError
    return data


def _write(channel: IO[bytes], data: bytes) -> None:
    channel.write(_HEADER.pack(len(data)) + data)
    channel.flush()
