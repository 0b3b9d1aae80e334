"""The worker pool: results and errors come back, a hung or crashed worker is replaced, never reused."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from media.images import MediaRejected
from media.workers import WorkerCrashed, WorkerPool, WorkerTimeout, WorkerUnavailable


def double(n: int) -> int:
    return n * 2


def worker_pid() -> int:
    return os.getpid()


def refuse(reason: str) -> None:
    raise MediaRejected(reason)


def hang() -> None:
    threading.Event().wait()  # as a decoder stuck in a loop on a crafted file


def mark_then_hang(marker: str) -> None:
    Path(marker).touch()
    hang()


def die() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)  # as a codec crashing on a crafted file


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPool]:
    workers = WorkerPool(size=2, timeout=2.0, preload=[__name__], results=[MediaRejected])
    yield workers
    await workers.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def until_gone(pid: int) -> None:
    """A killed worker is reaped in the background: poll for that, within a bound."""
    async with asyncio.timeout(10):
        while alive(pid):  # noqa: ASYNC110 (nothing signals another process's end)
            await asyncio.sleep(0.01)


async def test_a_job_runs_in_another_process_and_the_worker_is_reused(pool: WorkerPool) -> None:
    assert await pool.run(double, 21) == 42
    first = await pool.run(worker_pid)
    second = await pool.run(worker_pid)

    assert first == second != os.getpid()


async def test_an_exception_of_the_job_reaches_the_caller_and_keeps_the_worker(pool: WorkerPool) -> None:
    before = await pool.run(worker_pid)

    with pytest.raises(MediaRejected, match="not a video") as raised:
        await pool.run(refuse, "not a video")

    assert raised.value.reason == "not a video"
    assert await pool.run(worker_pid) == before


async def test_a_job_over_its_budget_is_killed_and_the_next_job_gets_a_fresh_worker() -> None:
    pool = WorkerPool(size=1, timeout=0.5, preload=[__name__], results=[MediaRejected])
    try:
        before = await pool.run(worker_pid)

        with pytest.raises(WorkerTimeout, match=r"longer than 0\.5 seconds"):
            await pool.run(hang)

        assert not alive(before)
        after = await pool.run(worker_pid)
        assert after != before
        assert pool.processes == [after]
    finally:
        await pool.close()


async def test_a_crashed_worker_is_reported_and_replaced(pool: WorkerPool) -> None:
    before = await pool.run(worker_pid)

    with pytest.raises(WorkerCrashed, match=f"exit code -{signal.SIGSEGV.value}"):
        await pool.run(die)

    after = await pool.run(worker_pid)
    assert after != before
    assert pool.processes == [after]


async def test_at_most_size_jobs_run_at_once_and_a_hung_one_does_not_block_the_other_slot() -> None:
    pool = WorkerPool(size=2, timeout=1.0, preload=[__name__], results=[MediaRejected])
    try:
        hung = asyncio.create_task(pool.run(hang))
        assert await pool.run(double, 2) == 4  # the second slot still works while the first hangs
        with pytest.raises(WorkerTimeout):
            await hung
        results = await asyncio.gather(*(pool.run(double, n) for n in range(6)))
        assert results == [0, 2, 4, 6, 8, 10]
        assert len(pool.processes) <= 2
    finally:
        await pool.close()


async def test_a_caller_that_goes_away_mid_job_leaves_no_worker_behind(
    pool: WorkerPool, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    task = asyncio.create_task(pool.run(mark_then_hang, str(marker)))
    async with asyncio.timeout(10):
        while not marker.exists():  # noqa: ASYNC110 (the worker signals through the file system)
            await asyncio.sleep(0.01)
    busy = set(pool.processes)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    (ended,) = busy - set(pool.processes)
    await until_gone(ended)
    assert await pool.run(double, 5) == 10


async def test_close_stops_every_worker() -> None:
    pool = WorkerPool(size=2, timeout=2.0, preload=[__name__], results=[MediaRejected])
    pids = await asyncio.gather(pool.run(worker_pid), pool.run(worker_pid))

    await pool.close()

    assert not any(alive(pid) for pid in pids)


class Smuggled:
    """Not among the pool's allowed results: a compromised worker could answer with anything."""


def smuggle() -> Smuggled:
    return Smuggled()


async def test_an_answer_naming_a_class_that_is_not_allowed_is_refused(pool: WorkerPool) -> None:
    with pytest.raises(WorkerCrashed, match="is not an allowed result"):
        await pool.run(smuggle)

    assert await pool.run(double, 1) == 2


def environment() -> dict[str, str]:
    return dict(os.environ)


async def test_a_worker_does_not_inherit_the_servers_secrets(
    pool: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-decoders")
    monkeypatch.setenv("SECRET_KEY", "not-for-decoders-either")

    seen = await pool.run(environment)

    assert "not-for-decoders" not in " ".join(seen.values())
    assert seen["PATH"] == os.environ["PATH"]


async def test_a_worker_that_cannot_start_is_the_servers_fault_not_the_jobs() -> None:
    pool = WorkerPool(size=1, timeout=2.0, preload=["no_such_module_anywhere"])
    try:
        with pytest.raises(WorkerUnavailable, match="did not start"):
            await pool.run(double, 1)
        assert pool.processes == []
    finally:
        await pool.close()


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


@pytest.mark.parametrize("reaped", [True, False], ids=["noticed", "not-yet-noticed"])
async def test_an_idle_worker_that_died_is_replaced_and_the_next_job_runs(
    pool: WorkerPool, reaped: bool
) -> None:
    before = await pool.run(worker_pid)
    os.kill(before, signal.SIGKILL)  # as the OOM killer, while the worker waits for work
    if reaped:
        await until_gone(before)

    assert await pool.run(double, 21) == 42
    after = await pool.run(worker_pid)
    assert after != before
    assert pool.processes == [after]


async def test_a_job_over_the_memory_limit_fails_alone_and_its_worker_is_replaced() -> None:
    pool = WorkerPool(
        size=1, timeout=5.0, preload=[__name__], results=[MediaRejected], memory_limit=768 << 20
    )
    try:
        before = await pool.run(worker_pid)
        assert await pool.run(allocate, 64) == 64 << 20  # well under the limit: fine

        with pytest.raises(MemoryError):
            await pool.run(allocate, 1024)

        after = await pool.run(worker_pid)
        assert after != before  # the worker that ran out is not reused
        assert await pool.run(allocate, 64) == 64 << 20
    finally:
        await pool.close()
