"""Recently checked bearer tokens, in process: a signed-in request costs a dict lookup, not a query.

A revocation that lands while a request is reading the token from the database must not be
overwritten by that request's fill: every revocation (and resync) moves `generation` on, and a fill
read before the move is dropped.

An entry lives at most `ttl` seconds and never past the token's own expiry. Revocation reaches
every process at once: `logOut` publishes on the revocations channel after its commit and each
process's watcher drops the token. If the broker reconnected (a `resync` event: something may
have been missed) the whole cache is dropped. With the broker down and no resync yet, a revoked
token can stay usable for at most `ttl` seconds on another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from subscriptions import InvalidEvent, PubSub, PubSubError, parse_event, revocations_channel

log = logging.getLogger("ephemera.tokens")


@dataclass(frozen=True, slots=True)
class KnownToken:
    user_id: int
    token_id: int
    expires_at: datetime


class TokenCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 100_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, KnownToken]] = OrderedDict()
        self._digests: dict[int, str] = {}  # token id -> its cache key
        self._watcher: asyncio.Task[None] | None = None
        self.generation = 0  # moves on with every revocation and resync

    def get(self, digest: str, now: datetime) -> KnownToken | None:
        found = self._entries.get(digest)
        if found is None:
            return None
        cached_at, token = found
        if time.monotonic() - cached_at > self.ttl or token.expires_at <= now:
            self._drop(digest)
            return None
        return token

    def put(self, digest: str, token: KnownToken, generation: int | None = None) -> None:
        """Remember a token checked against the database; with the `generation` read before that
        check, only if no revocation arrived since (it may be this token's)."""
        if self.ttl <= 0 or (generation is not None and generation != self.generation):
            return
        self._entries[digest] = (time.monotonic(), token)
        self._entries.move_to_end(digest)
        self._digests[token.token_id] = digest
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))

    def revoke(self, token_id: int) -> None:
        self.generation += 1
        digest = self._digests.get(token_id)
        if digest is not None:
            self._drop(digest)

    def _drop(self, digest: str) -> None:
        found = self._entries.pop(digest, None)
        if found is not None:
            self._digests.pop(found[1].token_id, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._digests.clear()

    def watch(self, pubsub: PubSub) -> None:
        """Drop revoked tokens as any process announces them, until `stop`."""
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch(pubsub), name="token-revocations")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    async def _watch(self, pubsub: PubSub) -> None:
        while True:
            try:
                async with pubsub.subscribe(revocations_channel()) as subscription:
                    async for message in subscription:
                        try:
                            event = parse_event(message.event)
                        except InvalidEvent:
                            continue
                        if event["type"] == "token_revoked":
                            self.revoke(event["token_id"])
                        elif event["type"] == "resync":
                            self.clear()
            except PubSubError:
                log.warning("token revocations unavailable; dropping cached tokens", exc_info=True)
            self.clear()
            await asyncio.sleep(1)
