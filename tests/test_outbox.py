"""The outbox: work a write needs before it answers is the write's own, and a row that keeps
failing is set aside as a dead letter (logged, counted) instead of retried forever."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Services
from core.observability import OUTBOX_DEAD
from core.outbox import DEAD_LETTER
from core.unit_of_work import unit_of_work
from models import Outbox
from tests.harness import Api

KIND = "test.effect"


@pytest.fixture
def effects(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """(n, who ran it) for every run of a `test.effect` row; n < 0 fails."""
    ran: list[tuple[int, str]] = []

    async def effect(services: Services, payload: dict[str, Any]) -> None:
        task = asyncio.current_task()
        ran.append((payload["n"], task.get_name() if task else "?"))
        if payload["n"] < 0:
            raise RuntimeError("storage said no")

    monkeypatch.setitem(api.services.outbox.handlers, KIND, effect)
    return ran


async def rows(api: Api) -> list[Outbox]:
    async with api.services.db.read() as session:
        return list(await session.scalars(select(Outbox).where(Outbox.kind == KIND)))


async def test_a_drain_running_at_the_commit_does_not_take_the_writes_before_answer_work(
    api: Api, effects: list[tuple[int, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follow answers after its feed backfill: the periodic drain (or another write's kick) must
    not claim that row between the commit and the write running it."""
    services = api.services
    original: Callable[[], Any] = services.db.write
    drain_entered, drain_release = asyncio.Event(), asyncio.Event()
    armed = [True]

    async def drain_in_between() -> None:
        """A drain that happens to run right after the write's commit, and is slow at its work."""
        drain = asyncio.create_task(services.outbox.drain(services), name="periodic-drain")
        entered = asyncio.create_task(drain_entered.wait())
        await asyncio.wait([drain, entered], return_when=asyncio.FIRST_COMPLETED)
        entered.cancel()

    @asynccontextmanager
    async def write() -> AsyncIterator[AsyncSession]:
        async with original() as session:
            yield session
        if armed[0]:  # committed: now the periodic drain wakes up
            armed[0] = False
            await drain_in_between()

    async def slow_when_drained(services: Services, payload: dict[str, Any]) -> None:
        task = asyncio.current_task()
        if task is not None and task.get_name() == "periodic-drain":
            drain_entered.set()
            await drain_release.wait()
        effects.append((payload["n"], task.get_name() if task else "?"))

    monkeypatch.setitem(services.outbox.handlers, KIND, slow_when_drained)
    monkeypatch.setattr(services.db, "write", write)
    try:
        async with unit_of_work(services) as work:
            work.outbox(KIND, {"n": 1}, before_answer=True)
        # The write has answered: its effect must have run, by the write itself.
        assert [n for n, _ in effects] == [1]
        assert effects[0][1] != "periodic-drain"
    finally:
        drain_release.set()
    await services.outbox.settle(services)
    assert [n for n, _ in effects] == [1]  # once
    assert await rows(api) == []


async def test_a_before_answer_row_that_fails_is_left_to_the_drain_after_its_lease(
    api: Api, effects: list[tuple[int, str]]
) -> None:
    services = api.services
    async with unit_of_work(services) as work:
        work.outbox(KIND, {"n": -1}, before_answer=True)
    assert len(effects) == 1
    assert await services.outbox.drain(services) == 0  # still leased to the write that failed it
    assert len(effects) == 1

    api.clock.advance(services.outbox.lease.total_seconds() + 1)
    await services.outbox.drain(services)
    assert len(effects) == 2
    (row,) = await rows(api)
    assert row.attempts == 2


async def test_a_row_failing_max_attempts_times_becomes_a_logged_and_counted_dead_letter(
    api: Api,
    effects: list[tuple[int, str]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    services = api.services
    monkeypatch.setattr(services.outbox, "max_attempts", 3)
    dead_before = OUTBOX_DEAD.labels(KIND)._value.get()
    async with unit_of_work(services) as work:
        work.outbox(KIND, {"n": -7})
        work.outbox(KIND, {"n": 8})
    await services.outbox.settle(services)

    with caplog.at_level(logging.ERROR, logger="ephemera.outbox"):
        for _ in range(5):
            api.clock.advance(services.outbox.lease.total_seconds() + 1)
            await services.outbox.drain(services)

    assert [n for n, _ in effects].count(-7) == 3
    (row,) = await rows(api)  # the good row is done and gone; the bad one is kept, never due
    assert (row.payload, row.attempts, row.available_at) == ({"n": -7}, 3, DEAD_LETTER)
    assert OUTBOX_DEAD.labels(KIND)._value.get() == dead_before + 1
    (line,) = [r.getMessage() for r in caplog.records if "dead letter" in r.getMessage()]
    assert f"outbox {KIND} {row.id} set aside as a dead letter after 3 attempts" in line
    assert "storage said no" in line


async def test_a_row_whose_runs_never_finish_is_set_aside_without_running_again(
    api: Api, effects: list[tuple[int, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = api.services
    monkeypatch.setattr(services.outbox, "max_attempts", 2)
    async with unit_of_work(services) as work:
        work.outbox(KIND, {"n": 5})
    async with services.db.write() as session:  # as if two workers died mid-run
        row = await session.scalar(select(Outbox).where(Outbox.kind == KIND))
        assert row is not None
        row.attempts = 2

    await services.outbox.settle(services)

    assert effects == []
    (row,) = await rows(api)
    assert row.available_at == DEAD_LETTER
