"""The production suite's Redis tests on a three-node Redis Cluster started for this module
(`redis-server --cluster-enabled yes` on three loopback ports, `redis-cli --cluster create`):
the feed property test and the two-process delivery test, unchanged, with REDIS_URL naming the
cluster; and a node that stops and comes back while a subscriber listens.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from services import open_services
from startup import StartupError
from subscriptions import ClusterRedisBackend, user_channel
from tests.conftest import _empty_postgres
from tests.engines import RedisClusterNodes, redis_cluster_available
from tests.harness import Api, running_server, test_settings
from tests.posting import user_id
from tests.services import unavailable
from tests.test_conversation_events import EVENTS, event
from tests.test_conversations import send, start

# The same tests as on a single Redis, collected here again with this module's fixtures.
from tests.test_feed_hybrid import test_hybrid_and_pull_stores_give_identical_pages  # noqa: F401
from tests.test_scale_out import (  # noqa: F401
    postgres_only,
    test_a_subscriber_on_one_process_gets_what_both_processes_accept,
)
from tests.ws_client import graphql_socket

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterNodes]:
    reason = redis_cluster_available()
    if reason:
        unavailable(reason)
    nodes = RedisClusterNodes.start()
    try:
        yield nodes
    finally:
        nodes.close()


@pytest.fixture
def fresh_cluster(cluster: RedisClusterNodes) -> RedisClusterNodes:
    for port in set(cluster.ports) - set(cluster.processes):
        cluster.start_node(port)  # a test that stopped a node and failed before restarting it
    cluster.wait_ok()
    cluster.flush()
    return cluster


@pytest.fixture
def backend() -> str:
    """Only the production adapters: the cluster stands in for Redis."""
    return "postgresql"


@pytest.fixture
def app_redis_url(fresh_cluster: RedisClusterNodes) -> str:
    return fresh_cluster.url


@pytest.fixture
async def hybrid(
    postgres_database: str, fresh_cluster: RedisClusterNodes, tmp_path: Path
) -> AsyncIterator[Api]:
    """test_feed_hybrid's store, on the cluster: every user's set lives on its own slot's node."""
    await _empty_postgres(postgres_database)
    settings = test_settings(
        postgres_database,
        fresh_cluster.url,
        tmp_path / "data",
        fanout_threshold=2,
        feed_cache_size=4,
        feed_inactive_days=7,
        fanout_interval_seconds=3600,
    )
    async with running_server(settings) as api:
        yield api


def pubsub_backend(api: Api) -> ClusterRedisBackend:
    found = api.services.pubsub.backend
    assert isinstance(found, ClusterRedisBackend)
    return found


async def test_feed_sets_and_channels_spread_over_every_node(hybrid: Api) -> None:
    users = [await hybrid.sign_up() for _ in range(12)]
    backend = pubsub_backend(hybrid)
    assert backend.sharded  # redis-server 7: SSUBSCRIBE / SPUBLISH
    async with hybrid.services.pubsub.subscribe(*(user_channel(user_id(u)) for u in users)):
        assert len(set(backend.placement.values())) == 3


async def test_a_node_that_stops_and_returns_loses_no_committed_message(
    fresh_cluster: RedisClusterNodes, postgres_database: str, tmp_path: Path
) -> None:
    await _empty_postgres(postgres_database)
    settings: Any = test_settings(postgres_database, fresh_cluster.url, tmp_path / "data")
    async with running_server(settings) as api:
        alice, bob = await api.sign_up(), await api.sign_up()
        cid = await start(api, alice, bob)
        async with graphql_socket(api.ws_url, bob.token) as socket:
            op = await socket.subscribe(EVENTS, {"cid": cid})
            channel = user_channel(user_id(bob))
            await _placed(api, channel)
            await send(api, alice, cid, "before")
            assert event(await socket.next(op))["message"]["seq"] == 1

            node = pubsub_backend(api).placement[channel]
            assert node is not None
            port = int(node.rpartition(":")[2])
            fresh_cluster.stop_node(port)
            # Committed while bob's node is down: the live events are lost, the messages are not.
            await send(api, alice, cid, "during 1")
            await send(api, alice, cid, "during 2")
            fresh_cluster.start_node(port)
            fresh_cluster.wait_ok()

            # The subscription resynchronizes from the database on its own, then goes live.
            assert event(await socket.next(op, wait=20))["message"]["seq"] == 2
            assert event(await socket.next(op))["message"]["seq"] == 3
            await send(api, alice, cid, "after")
            assert event(await socket.next(op, wait=10))["message"]["seq"] == 4
            await socket.nothing(op)

        # A client that lost its socket instead recovers the gap with afterSeq.
        async with graphql_socket(api.ws_url, bob.token) as socket:
            op = await socket.subscribe(EVENTS, {"cid": cid, "after": 1})
            assert [event(await socket.next(op))["message"]["seq"] for _ in range(3)] == [2, 3, 4]


async def _placed(api: Api, channel: str) -> None:
    """Until the socket's subscription is confirmed on its node (the socket subscribes async)."""
    for _ in range(200):
        if pubsub_backend(api).placement.get(channel):
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{channel} was never subscribed")


VIEWER = "query Viewer { viewer { username } }"
BIO = "mutation($bio: String!) { updateProfile(input: {bio: $bio}) { bio } }"


async def test_limits_persisted_queries_and_log_out_are_shared_through_the_cluster(
    fresh_cluster: RedisClusterNodes, postgres_database: str, tmp_path: Path
) -> None:
    await _empty_postgres(postgres_database)
    settings: Any = test_settings(
        postgres_database, fresh_cluster.url, tmp_path / "data", mutations_per_minute_per_user=3
    )
    async with running_server(settings) as a, running_server(settings) as b:
        alice = await a.sign_up()
        codes = [
            (await (a if n % 2 else b).post(BIO, {"bio": str(n)}, alice.token)).get("errors", [{}])[0]
            for n in range(4)
        ]
        assert [error.get("extensions", {}).get("code") for error in codes] == [
            None,
            None,
            None,
            "RATE_LIMITED",
        ]

        apq = {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(VIEWER.encode()).hexdigest()}}
        headers = {"Authorization": f"Bearer {alice.token}"}
        await a.http.post("/graphql", json={"query": VIEWER, "extensions": apq}, headers=headers)
        by_hash = await b.http.post("/graphql", json={"extensions": apq}, headers=headers)
        assert by_hash.json()["data"] == {"viewer": {"username": alice.username}}

        a.clock.advance(61)  # past the minute of the limit
        await a.gql("mutation { logOut }", token=alice.token)
        # b had the token cached; the revocation reaches it through the cluster's pub/sub.
        for _ in range(200):
            refused = (await b.post(VIEWER, token=alice.token)).get("errors")
            if refused and refused[0]["extensions"]["reason"] == "TOKEN_REVOKED":
                break
            await asyncio.sleep(0.025)
        else:
            raise AssertionError("the other process still accepts a logged-out token")


async def test_a_url_that_mistakes_the_kind_of_redis_is_refused_in_one_line(
    cluster: RedisClusterNodes, redis_required: str, postgres_database: str, tmp_path: Path
) -> None:
    node = cluster.url.replace("redis+cluster://", "redis://")
    where = urlsplit(redis_required).netloc.rpartition("@")[2]
    single = f"redis+cluster://{where}"
    for url, expected in (
        (node, f"is a Redis Cluster node: write REDIS_URL as {cluster.url} so that"),
        (
            single,
            "names a Redis Cluster, but Redis on 127.0.0.1:6379 is not in cluster mode: write REDIS_URL as",
        ),
    ):
        with pytest.raises(StartupError) as refused:
            await open_services(test_settings(postgres_database, url, tmp_path / "data"))
        assert str(refused.value).startswith("REDIS_URL: ") and expected in str(refused.value)
