"""Read replicas on a real primary and a streaming replica (initdb + pg_basebackup -R), started on
loopback for this module: where reads go, read-your-writes, a lagging or stopped replica, and
subscription replay while the replica lags.

The replica is made to lag on purpose with `pg_wal_replay_pause()`: it keeps answering, but shows
the database as it was when replay paused.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.replicas import ReadRouter
from migrations.runner import upgrade_to_head
from tests.conftest import _empty_postgres, _flush_redis
from tests.engines import PostgresWithReplica, postgres_available
from tests.harness import Api, TestUser, running_server, test_settings
from tests.services import run_blocking, unavailable
from tests.test_conversation_events import EVENTS, event
from tests.test_conversations import send, seqs, start
from tests.ws_client import graphql_socket

pytestmark = pytest.mark.slow

BIO = "mutation($bio: String!) { updateProfile(input: {bio: $bio}) { bio } }"
PROFILE = "query($name: String!) { user(username: $name) { bio } }"


@pytest.fixture(scope="module")
def engines() -> Iterator[PostgresWithReplica]:
    reason = postgres_available()
    if reason:
        unavailable(reason)
    engines = PostgresWithReplica.start()
    try:
        run_blocking(upgrade_to_head(engines.primary.url))
        yield engines
    finally:
        engines.close()


@pytest.fixture
async def replicated(
    engines: PostgresWithReplica, redis_required: str, tmp_path: Path
) -> AsyncIterator[PostgresWithReplica]:
    if not engines.replica.running:
        engines.replica.start()
    engines.resume_replay()
    await _empty_postgres(engines.primary.url)
    await _flush_redis(redis_required)
    engines.wait_caught_up()
    yield engines
    if engines.replica.running:
        engines.resume_replay()


def replica_settings(engines: PostgresWithReplica, redis_url: str, data_dir: Path, **overrides: Any) -> Any:
    return test_settings(
        engines.primary.url,
        redis_url,
        data_dir,
        database_replica_urls=(engines.replica.url,),
        replica_check_interval_seconds=0.1,
        **({"replica_max_lag_seconds": 60.0} | overrides),
    )


def router(api: Api) -> ReadRouter:
    found = api.services.db.router
    assert found is not None
    return found


async def until(condition: Any, what: str, within: float = 15) -> None:
    """Poll an async condition with a deadline (the monitor checks every 0.1 s)."""
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def in_use(api: Api) -> bool:
    return bool(router(api).usable())


async def bio(api: Api, user: TestUser, reader: TestUser | None) -> str:
    data = await api.gql(PROFILE, {"name": user.username}, token=reader.token if reader else None)
    return str(data["user"]["bio"])


async def test_reads_go_to_the_replica_and_a_writer_reads_their_own_writes(
    replicated: PostgresWithReplica, redis_required: str, tmp_path: Path
) -> None:
    async with running_server(replica_settings(replicated, redis_required, tmp_path / "d")) as api:
        alice, bob = await api.sign_up(), await api.sign_up()
        await api.gql(BIO, {"bio": "before"}, token=alice.token)
        replicated.wait_caught_up()
        await until(lambda: in_use(api), "the replica to be in use")
        await router(api).wait_polled()

        replicated.pause_replay()
        assert (await api.gql(BIO, {"bio": "after"}, token=alice.token))["updateProfile"]["bio"] == "after"

        # Others read the replica, which has not replayed the change yet ...
        assert await bio(api, alice, bob) == "before"
        assert await bio(api, alice, None) == "before"
        # ... while the writer's own requests read the primary until the replica has it.
        assert await bio(api, alice, alice) == "after"

        replicated.resume_replay()
        await until(lambda: _bio_is(api, alice, bob, "after"), "the replica to replay the change")
        await router(api).wait_polled()
        assert await bio(api, alice, alice) == "after"


async def _bio_is(api: Api, user: TestUser, reader: TestUser, expected: str) -> bool:
    return await bio(api, user, reader) == expected


async def test_a_new_session_reads_its_own_sign_up(
    replicated: PostgresWithReplica, redis_required: str, tmp_path: Path
) -> None:
    async with running_server(replica_settings(replicated, redis_required, tmp_path / "d")) as api:
        await until(lambda: in_use(api), "the replica to be in use")
        replicated.pause_replay()
        carol = await api.sign_up()
        data = await api.gql("{ viewer { username } }", token=carol.token)
        assert data["viewer"]["username"] == carol.username


async def test_a_replica_lagging_beyond_the_limit_is_skipped(
    replicated: PostgresWithReplica, redis_required: str, tmp_path: Path
) -> None:
    settings = replica_settings(replicated, redis_required, tmp_path / "d", replica_max_lag_seconds=0.5)
    async with running_server(settings) as api:
        alice, bob = await api.sign_up(), await api.sign_up()
        replicated.wait_caught_up()
        await until(lambda: in_use(api), "the replica to be in use")
        await router(api).wait_polled()

        replicated.pause_replay()
        await api.gql(BIO, {"bio": "fresh"}, token=alice.token)
        # Within about half a second the replica is too far behind: everyone reads the primary.
        await until(lambda: _bio_is(api, alice, bob, "fresh"), "reads to leave the lagging replica", 5)
        assert not router(api).usable()
        assert router(api).replicas[0].lag > 0.5

        replicated.resume_replay()
        await until(lambda: in_use(api), "the replica to be back in use once it caught up")


async def test_a_stopped_replica_is_skipped_and_taken_back_when_it_returns(
    replicated: PostgresWithReplica, redis_required: str, tmp_path: Path
) -> None:
    async with running_server(replica_settings(replicated, redis_required, tmp_path / "d")) as api:
        alice, bob = await api.sign_up(), await api.sign_up()
        replicated.wait_caught_up()
        await until(lambda: in_use(api), "the replica to be in use")

        replicated.replica.stop("immediate")
        await until(lambda: _not_in_use(api), "the stopped replica to be skipped", 5)
        assert router(api).replicas[0].lag == math.inf
        await api.gql(BIO, {"bio": "while it was down"}, token=alice.token)
        for _ in range(20):  # every request is served, from the primary
            assert await bio(api, alice, bob) == "while it was down"
        metrics = (await api.http.get("/metrics")).text
        assert f'ephemera_replica_lag_seconds{{replica="{router(api).replicas[0].name}"}} +Inf' in metrics

        replicated.replica.start()
        await until(lambda: in_use(api), "the restarted replica to be used again")
        assert await bio(api, alice, bob) == "while it was down"


async def _not_in_use(api: Api) -> bool:
    return not router(api).usable()


async def test_subscription_replay_misses_nothing_while_the_replica_lags(
    replicated: PostgresWithReplica, redis_required: str, tmp_path: Path
) -> None:
    async with running_server(replica_settings(replicated, redis_required, tmp_path / "d")) as api:
        alice, bob = await api.sign_up(), await api.sign_up()
        cid = await start(api, alice, bob)
        await send(api, alice, cid, "one")
        replicated.wait_caught_up()
        await until(lambda: in_use(api), "the replica to be in use")
        await router(api).wait_polled()

        replicated.pause_replay()
        for body in ("two", "three", "four"):
            await send(api, alice, cid, body)
        # Bob's queries read the paused replica: it has only the first message ...
        assert await seqs(api, bob, cid) == [1]
        # ... but a subscription replays from the primary, so resuming with afterSeq loses nothing.
        async with graphql_socket(api.ws_url, bob.token) as socket:
            op = await socket.subscribe(EVENTS, {"cid": cid, "after": 1})
            replayed = [event(await socket.next(op))["message"]["body"] for _ in range(3)]
            await send(api, alice, cid, "five")
            live = event(await socket.next(op))["message"]
            await socket.nothing(op)
        assert replayed == ["two", "three", "four"]
        assert (live["seq"], live["body"]) == (5, "five")


async def test_without_the_primary_no_replica_is_used_and_readiness_says_so(
    replicated: PostgresWithReplica, redis_required: str, tmp_path: Path
) -> None:
    async with running_server(replica_settings(replicated, redis_required, tmp_path / "d")) as api:
        await until(lambda: in_use(api), "the replica to be in use")
        replicated.primary.stop("fast")
        try:
            # The lag checks need the primary's position: replicas serve nothing without it.
            await until(lambda: _not_in_use(api), "the replica to be set aside", 5)
            ready = await api.http.get("/readyz")
            assert ready.status_code == 503 and ready.json()["database"] == "unavailable"
        finally:
            replicated.primary.start()
