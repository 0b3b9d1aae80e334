"""The in-process token cache: bounded in time and size, and emptied by revocations from any process."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.token_cache import KnownToken, TokenCache
from subscriptions import PubSub, resync, revocations_channel, token_revoked

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def token(token_id: int, expires_in: float = 3600) -> KnownToken:
    return KnownToken(user_id=1, token_id=token_id, expires_at=NOW + timedelta(seconds=expires_in))


def test_an_entry_lives_no_longer_than_the_ttl_or_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    seconds = [0.0]
    monkeypatch.setattr("core.token_cache.time.monotonic", lambda: seconds[0])
    cache = TokenCache(ttl_seconds=60)
    cache.put("a", token(1))
    seconds[0] = 59
    assert cache.get("a", NOW) == token(1)
    seconds[0] = 61
    assert cache.get("a", NOW) is None  # past the ttl
    short = TokenCache(ttl_seconds=60)
    short.put("b", token(2, expires_in=5))
    assert short.get("b", NOW + timedelta(seconds=5)) is None  # the token itself expired


def test_the_cache_is_bounded_and_revocations_find_their_entry() -> None:
    cache = TokenCache(ttl_seconds=60, max_entries=2)
    for n in range(3):
        cache.put(f"t{n}", token(n))
    assert cache.get("t0", NOW) is None and cache.get("t2", NOW) == token(2)
    cache.revoke(2)
    assert cache.get("t2", NOW) is None and cache.get("t1", NOW) == token(1)
    assert TokenCache(ttl_seconds=0).get("x", NOW) is None


async def test_revocations_and_resyncs_from_the_broker_empty_the_cache() -> None:
    async with PubSub("memory://") as pubsub:
        cache = TokenCache(ttl_seconds=60)
        cache.watch(pubsub)
        try:
            cache.put("a", token(1))
            cache.put("b", token(2))
            await _until(lambda: bool(pubsub._local.get(revocations_channel())))
            await pubsub.publish(revocations_channel(), token_revoked(1))
            await _until(lambda: cache.get("a", NOW) is None)
            assert cache.get("b", NOW) == token(2)
            # A broker reconnect may have lost revocations: nothing cached is trusted any more.
            await pubsub.publish(revocations_channel(), resync())
            await _until(lambda: cache.get("b", NOW) is None)
        finally:
            await cache.stop()


async def _until(condition: object) -> None:
    for _ in range(1000):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")
