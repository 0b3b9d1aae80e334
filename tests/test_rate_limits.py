"""Mutation rate limits: per user, with a retry-after hint, shared by every instance through Redis."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.harness import ServerFactory, running_server, test_settings

UPDATE_BIO = 'mutation { updateProfile(input: {bio: "hi"}) { bio } }'


async def test_mutations_beyond_the_limit_are_rate_limited_until_the_window_passes(
    server: ServerFactory,
) -> None:
    async with server(mutations_per_minute_per_user=3) as api:
        alice = await api.sign_up()
        for _ in range(3):
            await api.gql(UPDATE_BIO, token=alice.token)
        errors = await api.gql_error(UPDATE_BIO, token=alice.token)
        assert errors.codes == ["RATE_LIMITED"]
        assert 1 <= errors.errors[0]["extensions"]["retryAfter"] <= 60
        # Queries are not counted.
        assert (await api.gql("{ viewer { bio } }", token=alice.token))["viewer"]["bio"] == "hi"
        api.clock.advance(61)
        await api.gql(UPDATE_BIO, token=alice.token)


async def test_limits_are_shared_by_every_instance_when_redis_is_configured(
    database_url: str, app_redis_url: str | None, tmp_path: Path
) -> None:
    if app_redis_url is None:
        return  # the embedded default keeps limits in-process: each instance counts its own
    first = replace(
        test_settings(database_url, app_redis_url, tmp_path / "a"), mutations_per_minute_per_user=4
    )
    second = replace(first, data_dir=tmp_path / "b")
    async with running_server(first) as a, running_server(second, clock=a.clock) as b:
        alice = await a.sign_up()
        for api in (a, b, a, b):
            await api.gql(UPDATE_BIO, token=alice.token)
        assert (await b.gql_error(UPDATE_BIO, token=alice.token)).codes == ["RATE_LIMITED"]
        assert (await a.gql_error(UPDATE_BIO, token=alice.token)).codes == ["RATE_LIMITED"]
