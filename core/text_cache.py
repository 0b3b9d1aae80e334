"""An LRU keyed by what clients send (query texts), bounded in entries and in bytes.

Anyone may send a new text with every request, so a cache keyed by texts is bounded by what it
holds, not only by how many: the sum of the entries' sizes stays under `max_bytes`, and an entry
over `max_entry_bytes` is never kept (it would push out everything else for one request).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TextLRU(Generic[K, V]):
    def __init__(self, maxsize: int, max_bytes: int, max_entry_bytes: int) -> None:
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self.bytes = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V, size: int) -> bool:
        """Keep `value` (of `size` bytes); False when it is too large to keep."""
        if size > self.max_entry_bytes:
            return False
        previous = self._entries.pop(key, None)
        if previous is not None:
            self.bytes -= previous[1]
        self._entries[key] = (value, size)
        self.bytes += size
        while len(self._entries) > self.maxsize or self.bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped
        return True
