"""One timer closes every socket whose token expires (server/token_expiry.py), on the app's clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from core.clock import ManualClock
from server.token_expiry import ExpiryWatch


def socket(clock: ManualClock, viewer: int) -> Any:
    return SimpleNamespace(
        services=SimpleNamespace(clock=clock), viewer=viewer, websocket=None, expiry_number=None
    )


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_each_socket_is_expired_at_its_own_time_and_a_forgotten_one_never() -> None:
    clock = ManualClock()
    watch = ExpiryWatch()
    late, soon, gone = socket(clock, 1), socket(clock, 2), socket(clock, 3)
    watch.watch(late, clock.now() + timedelta(seconds=10))
    watch.watch(gone, clock.now() + timedelta(seconds=7))
    watch.watch(soon, clock.now() + timedelta(seconds=5))  # sooner than the one slept on
    await settle()
    watch.forget(gone)
    clock.advance(5)
    await settle()
    assert (late.viewer, soon.viewer, gone.viewer) == (1, None, 3)
    clock.advance(3)
    await settle()
    assert gone.viewer == 3 and len(watch) == 1
    clock.advance(2)
    await settle()
    assert late.viewer is None and len(watch) == 0


async def test_the_timer_stops_with_the_last_socket_and_starts_again() -> None:
    clock = ManualClock()
    watch = ExpiryWatch()
    first = socket(clock, 1)
    watch.watch(first, clock.now() + timedelta(seconds=5))
    watch.forget(first)
    await settle()
    assert watch._task is None
    second = socket(clock, 2)
    watch.watch(second, clock.now() + timedelta(seconds=5))
    clock.advance(5)
    await settle()
    assert second.viewer is None
