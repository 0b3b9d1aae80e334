"""A logged-out token's WebSockets close on every process, with the token cache on, whatever the
broker does: the announcement is an outbox row retried until published, a resync checks the
database (not the cache), and every process re-checks its sockets' tokens periodically in batches.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine

from models import AuthToken, Outbox
from resolvers.accounts.auth import token_hash
from server import token_watch
from settings import asyncpg_url
from subscriptions import PublishFailed, resync, revocations_channel
from tests.harness import Api, ServerFactory
from tests.processes import clean_env, free_port, serving
from tests.subscriptions.test_pubsub_redis import RedisProcess, redis_process  # noqa: F401
from tests.ws_client import GraphQLSocket, graphql_socket

pytestmark = pytest.mark.served  # WebSockets: uvicorn on loopback

LOG_OUT = "mutation LogOut { logOut }"
VIEWER = "query Viewer { viewer { username } }"
EVENTS = "subscription { conversationEvents { __typename } }"


async def revoke_in_database_only(api: Api, token: str) -> None:
    """A logOut whose announcement never arrives: only the database knows."""
    async with api.services.db.write() as session:
        await session.execute(
            update(AuthToken)
            .where(AuthToken.token_hash == token_hash(token))
            .values(revoked_at=api.clock.now())
        )


async def still_open(socket: GraphQLSocket) -> None:
    await socket.send({"type": "ping"})
    assert (await asyncio.wait_for(socket.other.get(), 5))["type"] == "pong"


async def test_an_announcement_that_failed_is_published_again_by_the_outbox(
    server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with server(ws_token_recheck_seconds=3600) as api:
        alice = await api.sign_up()
        pubsub = api.services.pubsub
        publish, failed = pubsub.publish, list[Any]()

        async def broker_away_once(channel: str, event: Any) -> None:
            if channel == revocations_channel() and not failed:
                failed.append(event)
                raise PublishFailed(channel, "Redis is away")
            await publish(channel, event)

        async with graphql_socket(api.ws_url, alice.token) as socket:
            monkeypatch.setattr(pubsub, "publish", broker_away_once)
            assert await api.gql(LOG_OUT, token=alice.token) == {"logOut": True}
            assert [event["type"] for event in failed] == ["token_revoked"]
            # The subscriptions stayed up, so no resync comes: the socket is still open.
            await still_open(socket)
            api.clock.advance(61)  # past the failed row's lease: the drain takes it again
            await api.services.outbox.settle(api.services)
            assert await socket.closed() == (4403, "Token revoked")


async def test_a_resync_checks_the_database_not_the_token_cache(server: ServerFactory) -> None:
    async with server(ws_token_recheck_seconds=3600) as api:
        alice, bob = await api.sign_up(), await api.sign_up()
        # The cache's own subscription would drop everything on a resync, but nothing orders it
        # before the sockets' one: here it has not (yet) seen it.
        await api.services.tokens.stop()
        async with (
            graphql_socket(api.ws_url, alice.token) as revoked,
            graphql_socket(api.ws_url, bob.token) as kept,
        ):
            assert (await api.gql(VIEWER, token=alice.token))["viewer"] is not None  # cached
            await revoke_in_database_only(api, alice.token)
            await api.services.pubsub.publish(revocations_channel(), resync())
            assert await revoked.closed() == (4403, "Token revoked")
            await still_open(kept)
            refused = await api.post(VIEWER, token=alice.token)
            assert refused["errors"][0]["extensions"]["reason"] == "TOKEN_REVOKED"


async def test_open_sockets_are_rechecked_periodically_one_statement_per_batch(
    server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(token_watch, "RECHECK_BATCH", 2)
    async with server(ws_token_recheck_seconds=30) as api:
        users = [await api.sign_up() for _ in range(5)]
        watch = api.app.state.websockets.tokens
        async with (
            graphql_socket(api.ws_url, users[0].token) as revoked,
            graphql_socket(api.ws_url, users[1].token),
            graphql_socket(api.ws_url, users[2].token),
            graphql_socket(api.ws_url, users[3].token),
            graphql_socket(api.ws_url, users[4].token) as kept,
        ):
            with api.count_statements() as statements:
                await watch.check(api.services)
            # Five tokens, two per statement.
            assert len([s for s in statements if "auth_tokens" in s]) == 3
            await revoke_in_database_only(api, users[0].token)
            checks = watch.checks
            api.clock.advance(29)
            await still_open(revoked)
            api.clock.advance(1)  # the periodic check is due
            assert await revoked.closed() == (4403, "Token revoked")
            assert watch.checks == checks + 1
            await still_open(kept)


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("two processes share PostgreSQL; the embedded SQLite file serves one process")


async def test_redis_down_during_the_log_out_closes_the_socket_on_the_other_process(
    postgres_only: None,
    database_url: str,
    redis_process: RedisProcess,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Process A logs the token out while Redis is down; the socket on process B (token cache on)
    closes within WS_TOKEN_RECHECK_SECONDS, and B refuses the token over HTTP."""
    recheck = 2
    redis_process.start()

    def env(name: str) -> dict[str, str]:
        return clean_env(
            DATABASE_URL=database_url,
            REDIS_URL=redis_process.url,
            DATA_DIR=str(tmp_path / name),
            PORT=str(free_port()),
            SECRET_KEY="test-secret-key-of-32-bytes-or-more",
            TOKEN_CACHE_SECONDS="60",
            WS_TOKEN_RECHECK_SECONDS=str(recheck),
            PASSWORD_TIME_COST="1",
            PASSWORD_MEMORY_KIB="1024",
        )

    with serving(env("a")) as a, serving(env("b")) as b:
        async with (
            httpx.AsyncClient(base_url=a.url, timeout=30) as http_a,
            httpx.AsyncClient(base_url=b.url, timeout=30) as http_b,
        ):
            api_a = Api(a.url, None, None, http_a)  # type: ignore[arg-type]
            api_b = Api(b.url, None, None, http_b)  # type: ignore[arg-type]
            alice = await api_a.sign_up()
            assert (await api_b.gql(VIEWER, token=alice.token))["viewer"] is not None  # cached on B
            async with graphql_socket(api_b.ws_url, alice.token) as socket:
                await socket.subscribe(EVENTS)
                redis_process.stop()
                assert await api_a.gql(LOG_OUT, token=alice.token) == {"logOut": True}
                logged_out = time.monotonic()
                assert await socket.closed(wait=recheck + 10) == (4403, "Token revoked")
                assert time.monotonic() - logged_out <= recheck + 5
                # The announcement A could not publish is kept, to be published once Redis is back.
                assert "token.revoked" in await outbox_kinds(database_url)
            refused = await api_b.post(VIEWER, token=alice.token)
            assert refused["errors"][0]["extensions"]["reason"] == "TOKEN_REVOKED"


async def outbox_kinds(database_url: str) -> list[str]:
    engine = create_async_engine(asyncpg_url(database_url))
    try:
        async with engine.connect() as connection:
            return list((await connection.scalars(select(Outbox.kind))).all())
    finally:
        await engine.dispose()
