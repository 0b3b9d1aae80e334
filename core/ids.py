"""Time-ordered 64-bit ids and their Relay global form.

Layout: 41 bits of milliseconds since EPOCH, 10 bits of node id, 12 bits of sequence.
Sorting by id sorts by creation time, which is what keyset pages rely on; the node bits
keep ids unique across processes and leave room for sharding by id later.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from datetime import UTC, datetime

from core.clock import Clock, SystemClock

EPOCH_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z
NODE_BITS = 10
SEQUENCE_BITS = 12
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1


class NodeIdUnavailable(RuntimeError):
    """No node id is held (none configured, or the lease ran out): generating one could collide."""


class IdGenerator:
    """Ids from the app's clock and this process's node id.

    The node id is either configured (NODE_ID) or leased (core/id_leases.py): a leased id is used
    only until `valid_until` (time.monotonic()), a margin before the lease ends for everyone else.
    """

    def __init__(self, node_id: int | None = None, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.node_id = node_id
        self.valid_until: float | None = None  # None: configured, valid for the process's life
        self._lock = threading.Lock()
        self._last_ms = 0
        self._sequence = 0

    def hold(self, node_id: int, valid_until: float, start_after: datetime | None = None) -> None:
        """Use a leased node id until `valid_until`; after taking over an expired lease, every new id
        is later than `start_after` (the end of the previous holder's lease)."""
        with self._lock:
            if node_id != self.node_id and start_after is not None:
                self._last_ms = max(self._last_ms, _ms(start_after) + 1)
                self._sequence = 0
            self.node_id = node_id
            self.valid_until = valid_until

    def next_id(self) -> int:
        with self._lock:
            node_id = self.node_id
            if node_id is None or (self.valid_until is not None and time.monotonic() > self.valid_until):
                raise NodeIdUnavailable("no valid node id: the id lease could not be renewed")
            now_ms = _ms(self.clock.now())
            if now_ms <= self._last_ms:
                # Same millisecond, or the clock stepped back: keep counting from the last one.
                now_ms = self._last_ms
                self._sequence = (self._sequence + 1) & MAX_SEQUENCE
                if self._sequence == 0:
                    now_ms += 1
            else:
                self._sequence = 0
            self._last_ms = now_ms
            return (now_ms << (NODE_BITS + SEQUENCE_BITS)) | (node_id << SEQUENCE_BITS) | self._sequence


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000) - EPOCH_MS


def id_floor(at: datetime) -> int:
    """The smallest id that could have been generated at `at`: a time bound usable in id ranges."""
    return max(_ms(at), 0) << (NODE_BITS + SEQUENCE_BITS)


def id_time(value: int) -> datetime:
    return datetime.fromtimestamp(((value >> (NODE_BITS + SEQUENCE_BITS)) + EPOCH_MS) / 1000, UTC)


def to_global_id(type_name: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{value}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """(type name, id), or None when the string is not one of our ids."""
    if not global_id or len(global_id) > 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, number = raw.partition(":")
    if not sep or not type_name.isalpha() or not number.isdigit() or len(number) > 19:
        return None
    value = int(number)
    return (type_name, value) if value < 1 << 63 else None
