"""Per-request DataLoaders, memoized on the context: `UserById(ctx).load(user_id)`.

Each batch reads through `ctx.read()`: loader batches run as concurrent tasks, and one
AsyncSession must never run two statements at once, so an HTTP request's batches take its
shared session in turn (core/shared_read.py); elsewhere each gets a short session.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from strawberry.dataloader import DataLoader

from core.context import RequestContext

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RequestLoader(DataLoader[K, V], Generic[K, V]):
    """Subclasses implement `fetch(keys)` returning a mapping; missing keys get `default()`."""

    max_batch = 500

    def __new__(cls, ctx: RequestContext) -> Any:
        existing = ctx.loaders.get(cls)
        if existing is None:
            existing = super().__new__(cls)
            ctx.loaders[cls] = existing
        return existing

    def __init__(self, ctx: RequestContext) -> None:
        if getattr(self, "ctx", None) is ctx:
            return
        self.ctx = ctx
        super().__init__(load_fn=self._load, max_batch_size=self.max_batch)

    async def _load(self, keys: Sequence[K]) -> list[V]:
        found = await self.fetch(keys)
        return [found[key] if key in found else self.default(key) for key in keys]

    async def fetch(self, keys: Sequence[K]) -> Mapping[K, V]:
        raise NotImplementedError

    def default(self, key: K) -> V:
        raise KeyError(key)


def unique(keys: Iterable[K]) -> list[K]:
    return list(dict.fromkeys(keys))
