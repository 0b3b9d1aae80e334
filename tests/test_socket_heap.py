"""The freezing policy of long-lived socket state (server/socket_heap.py): sockets are frozen in
batches, or once opening settles; enough closes unfreeze them so their cycles can be reclaimed."""

from __future__ import annotations

import asyncio

from server.socket_heap import SocketHeap


class Counted:
    def __init__(self) -> None:
        self.freezes = 0
        self.unfreezes = 0

    def freeze(self) -> None:
        self.freezes += 1

    def unfreeze(self) -> None:
        self.unfreezes += 1


def heap(counted: Counted, batch: int = 10, settle: float = 3600) -> SocketHeap:
    return SocketHeap(batch, settle, freeze=counted.freeze, unfreeze=counted.unfreeze)


async def test_a_full_batch_of_opens_is_frozen_at_once() -> None:
    counted = Counted()
    sockets = heap(counted)
    for _ in range(9):
        sockets.open()
    assert counted.freezes == 0
    sockets.open()
    assert counted.freezes == 1
    for _ in range(10):
        sockets.open()
    assert counted.freezes == 2


async def test_a_partial_batch_is_frozen_once_opening_settles() -> None:
    counted = Counted()
    sockets = heap(counted, settle=0.01)
    for _ in range(12):
        sockets.open()
    assert counted.freezes == 1
    frozen = asyncio.get_running_loop().create_future()
    sockets._freeze = lambda: frozen.set_result(None)
    await asyncio.wait_for(frozen, 5)
    assert sockets.opened == 0 and sockets.freezes == 2


async def test_fewer_sockets_than_a_batch_are_never_frozen() -> None:
    counted = Counted()
    sockets = heap(counted, settle=0)
    for _ in range(9):
        sockets.open()
    await asyncio.sleep(0.01)
    assert counted.freezes == 0 and sockets._timer is None


async def test_closes_unfreeze_once_a_quarter_of_the_sockets_closed() -> None:
    counted = Counted()
    sockets = heap(counted)
    for _ in range(100):
        sockets.open()
    assert counted.freezes == 10
    for _ in range(9):
        sockets.close()
    assert counted.unfreezes == 0  # fewer than a batch
    for _ in range(11):
        sockets.close()
    # 20 closed of the 80 left open: a quarter.
    assert counted.unfreezes == 1 and sockets.closed == 0
    sockets.close()
    assert counted.unfreezes == 1


async def test_an_emptied_heap_freezes_nothing() -> None:
    counted = Counted()
    sockets = heap(counted)
    sockets.freeze()
    assert counted.freezes == 0
