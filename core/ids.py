"""Time-ordered 64-bit ids and their Relay global form.

Layout: 41 bits of milliseconds since EPOCH, 10 bits of node id, 12 bits of sequence.
Sorting by id sorts by creation time, which is what keyset pages rely on; the node bits
keep ids unique across processes and leave room for sharding by id later.
"""

from __future__ import annotations

import base64
import binascii
import os
import random
import threading
import time
from datetime import UTC, datetime

EPOCH_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z
NODE_BITS = 10
SEQUENCE_BITS = 12
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1


class IdGenerator:
    def __init__(self, node_id: int | None = None) -> None:
        if node_id is None:
            node_id = (os.getpid() ^ random.getrandbits(NODE_BITS)) & ((1 << NODE_BITS) - 1)
        self.node_id = node_id
        self._lock = threading.Lock()
        self._last_ms = 0
        self._sequence = 0

    def next_id(self) -> int:
        with self._lock:
            now_ms = int(time.time() * 1000) - EPOCH_MS
            if now_ms <= self._last_ms:
                # Same millisecond, or the wall clock stepped back: keep counting from the last one.
                now_ms = self._last_ms
                self._sequence = (self._sequence + 1) & MAX_SEQUENCE
                if self._sequence == 0:
                    now_ms += 1
            else:
                self._sequence = 0
            self._last_ms = now_ms
            return (now_ms << (NODE_BITS + SEQUENCE_BITS)) | (self.node_id << SEQUENCE_BITS) | self._sequence


def id_floor(at: datetime) -> int:
    """The smallest id that could have been generated at `at`: a time bound usable in id ranges."""
    ms = int(at.timestamp() * 1000) - EPOCH_MS
    return max(ms, 0) << (NODE_BITS + SEQUENCE_BITS)


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
