"""The one clock of the app: server UTC. Tests replace it to move time instead of sleeping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, moment: datetime) -> None:
        """Return once `now()` has reached `moment`."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, moment: datetime) -> None:
        await asyncio.sleep(max(0.0, (moment - self.now()).total_seconds()))


class ManualClock:
    """A clock that stands still until moved; sleepers wake when it is moved past their moment."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        waiting = []
        for moment, future in self._sleepers:
            if moment <= self._now:
                future.get_loop().call_soon_threadsafe(_wake, future)
            else:
                waiting.append((moment, future))
        self._sleepers = waiting

    async def sleep_until(self, moment: datetime) -> None:
        if moment <= self._now:
            return
        future = asyncio.get_running_loop().create_future()
        self._sleepers.append((moment, future))
        await future


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
