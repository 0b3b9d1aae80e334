"""The in-process token cache: bounded in time and size, emptied by revocations from any process, and
never refilled by a read that a revocation overtook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadToken
from core.token_cache import KnownToken, TokenCache
from resolvers.accounts.auth import authenticate
from subscriptions import PubSub, resync, revocations_channel, token_revoked
from tests.harness import Api

LOG_OUT = "mutation { logOut }"

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


def test_a_fill_read_before_a_revocation_is_dropped() -> None:
    cache = TokenCache(ttl_seconds=60)
    before = cache.generation
    cache.revoke(7)  # not cached yet: a request is still reading it from the database
    cache.put("a", token(7), before)
    assert cache.get("a", NOW) is None
    cache.put("a", token(7), cache.generation)
    assert cache.get("a", NOW) == token(7)


async def test_a_log_out_landing_while_a_request_reads_the_token_is_not_overwritten(api: Api) -> None:
    """authenticate reads the token, then fills the cache; a logOut committed and announced in
    between must win, on this process too (no sleeps: the log-out runs inside the read's hook)."""
    alice = await api.sign_up()
    services = api.services
    services.tokens.clear()  # signing up cached the token: start from a miss, as another process would
    logged_out: list[bool] = []

    @asynccontextmanager
    async def read_then_log_out() -> AsyncIterator[AsyncSession]:
        async with services.db.read() as session:
            yield session
        # The row was read while the token was valid; the logOut lands before the cache is filled.
        logged_out.append((await api.gql(LOG_OUT, token=alice.token))["logOut"])

    viewer = await authenticate(services, f"Bearer {alice.token}", read_then_log_out)
    assert viewer is not None and logged_out == [True]  # valid when it was read
    with pytest.raises(BadToken) as refused:
        await authenticate(services, f"Bearer {alice.token}")
    assert refused.value.reason == BadToken.REVOKED
    body = await api.post("{ viewer { id } }", token=alice.token)
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "TOKEN_REVOKED"}
