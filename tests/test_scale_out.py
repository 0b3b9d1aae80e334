"""Delivery across processes and across a Redis restart, as in production.

The two-process test runs only on [postgresql]: the embedded default's pub/sub (memory://)
lives inside one process, so two processes on SQLite would not see each other's events.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.conversation_helpers import EDIT, REACT, REMOVE
from tests.harness import Api, free_port, running_server, test_settings
from tests.subscriptions.test_pubsub_redis import RedisProcess, redis_process  # noqa: F401
from tests.test_conversation_events import EVENTS, event
from tests.test_conversation_live import LIVE
from tests.test_conversations import send, start
from tests.ws_client import graphql_socket

SERVE = """
import json, sys
from pathlib import Path
import uvicorn
from app import create_app
from settings import Settings
args = json.loads(sys.argv[1])
settings = Settings(
    database_url=args["database_url"], redis_url=args["redis_url"], data_dir=Path(args["data_dir"]),
    secret_key="test-secret-key", host="127.0.0.1", port=args["port"], migrate_on_start=False,
    password_time_cost=1, password_memory_kib=1024,
)
uvicorn.run(create_app(settings), host="127.0.0.1", port=args["port"], log_level="warning",
            ws="websockets-sansio")
"""


@asynccontextmanager
async def server_process(database_url: str, redis_url: str, data_dir: Path) -> AsyncIterator[str]:
    """`python -c` serving the app on a free loopback port; yields its base URL."""
    port = free_port()
    args = {"database_url": database_url, "redis_url": redis_url, "data_dir": str(data_dir), "port": port}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVE, json.dumps(args), cwd=Path(__file__).parent.parent, env=os.environ.copy()
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base_url) as client:
            for _ in range(300):
                assert process.returncode is None, "the server process exited during start-up"
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the server process did not become ready")
        yield base_url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


@asynccontextmanager
async def client(base_url: str) -> AsyncIterator[Api]:
    """An Api without an in-process app: HTTP and WebSocket to a server process only."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield Api(base_url, None, None, http)  # type: ignore[arg-type]


@pytest.fixture
def postgres_only(backend: str) -> Iterator[None]:
    if backend == "sqlite":
        pytest.skip("memory:// pub/sub is per process: scale-out needs Redis and PostgreSQL")
    yield


async def test_a_subscriber_on_one_process_gets_what_both_processes_accept(
    postgres_only: None, database_url: str, app_redis_url: str | None, tmp_path: Path
) -> None:
    if app_redis_url is None:
        pytest.skip("no Redis")
    async with (
        server_process(database_url, app_redis_url, tmp_path / "a") as url_a,
        server_process(database_url, app_redis_url, tmp_path / "b") as url_b,
        client(url_a) as a,
        client(url_b) as b,
    ):
        alice, bob = await a.sign_up(), await b.sign_up()
        cid = await start(b, alice, bob)
        async with graphql_socket(a.ws_url, bob.token) as socket:
            # With afterSeq the stream replays what it missed: no need to wait for it to be live.
            op = await socket.subscribe(EVENTS, {"cid": cid, "after": 0})
            sent = await asyncio.gather(*(send(a if n % 2 else b, alice, cid, f"n{n}") for n in range(40)))
            received = [event(await socket.next(op))["message"] for _ in range(40)]
            await socket.nothing(op)
    assert [m["seq"] for m in received] == list(range(1, 41))
    assert sorted(m["body"] for m in received) == sorted(str(m["body"]) for m in sent)


async def test_delivery_resumes_after_a_redis_restart(
    redis_process: RedisProcess,  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    redis_process.start()
    settings = test_settings(database_url, redis_process.url, tmp_path / "data")
    async with running_server(settings) as api:
        alice, bob = await api.sign_up(), await api.sign_up()
        cid = await start(api, alice, bob)
        async with graphql_socket(api.ws_url, bob.token) as socket:
            op = await socket.subscribe(EVENTS, {"cid": cid})
            await api.subscribed(bob)
            await send(api, alice, cid, "before")
            assert event(await socket.next(op))["message"]["seq"] == 1

            redis_process.stop()
            # Committed while Redis is down: the live events are lost, the messages are not.
            await send(api, alice, cid, "during 1")
            await send(api, alice, cid, "during 2")
            redis_process.start()

            # The subscription resynchronizes from the database on its own, then goes live.
            assert event(await socket.next(op, wait=15))["message"]["seq"] == 2
            assert event(await socket.next(op))["message"]["seq"] == 3
            await send(api, alice, cid, "after")
            assert event(await socket.next(op, wait=10))["message"]["seq"] == 4
            await socket.nothing(op)

        # A client that lost its socket instead recovers the gap with afterSeq.
        async with graphql_socket(api.ws_url, bob.token) as socket:
            op = await socket.subscribe(EVENTS, {"cid": cid, "after": 1})
            assert [event(await socket.next(op))["message"]["seq"] for _ in range(3)] == [2, 3, 4]


async def test_changes_and_membership_reach_subscribers_on_another_process(
    postgres_only: None, database_url: str, app_redis_url: str | None, tmp_path: Path
) -> None:
    """MessageChanged and MembersChanged made on process B reach sockets on process A; a member
    removed on B stops receiving the conversation on A at once."""
    if app_redis_url is None:
        pytest.skip("no Redis")
    async with (
        server_process(database_url, app_redis_url, tmp_path / "a") as url_a,
        server_process(database_url, app_redis_url, tmp_path / "b") as url_b,
        client(url_a) as a,
        client(url_b) as b,
    ):
        alice, bob, carol = await b.sign_up(), await b.sign_up(), await b.sign_up()
        group = await start(b, alice, bob, carol)
        direct = await start(b, alice, carol)
        first = await send(b, alice, group, "hi")
        async with (
            graphql_socket(a.ws_url, bob.token) as bob_socket,
            graphql_socket(a.ws_url, carol.token) as carol_socket,
        ):
            # afterSeq replays from the database first: once seq 1 arrives, each stream is live.
            bob_op = await bob_socket.subscribe(LIVE, {"cid": group, "after": 0})
            carol_group = await carol_socket.subscribe(LIVE, {"cid": group, "after": 0})
            carol_direct = await carol_socket.subscribe(LIVE, {"cid": direct, "after": 0})
            for socket, op in ((bob_socket, bob_op), (carol_socket, carol_group)):
                assert event(await socket.next(op))["message"]["seq"] == 1

            await b.gql(EDIT, {"id": first["id"], "body": "hi all"}, token=alice.token)
            await b.gql(REACT, {"id": first["id"], "emoji": "🎉"}, token=carol.token)
            for socket, op in ((bob_socket, bob_op), (carol_socket, carol_group)):
                edited = event(await socket.next(op, wait=10))
                assert (edited["__typename"], edited["message"]["body"]) == ("MessageChanged", "hi all")
                reacted = event(await socket.next(op, wait=10))["message"]
                assert [r["emoji"] for r in reacted["reactions"]] == ["🎉"]

            await b.gql(REMOVE, {"cid": group, "id": carol.id}, token=alice.token)
            removed = event(await bob_socket.next(bob_op, wait=10))
            assert (removed["__typename"], removed["removed"]) == (
                "MembersChanged",
                [{"username": carol.username}],
            )
            await send(b, alice, group, "carol is gone")
            await b.gql(EDIT, {"id": first["id"], "body": "hi bob"}, token=alice.token)
            assert event(await bob_socket.next(bob_op, wait=10))["message"]["body"] == "carol is gone"
            assert event(await bob_socket.next(bob_op, wait=10))["message"]["body"] == "hi bob"
            # carol hears from her other conversation, and never again from the group.
            await send(b, alice, direct, "still friends")
            assert event(await carol_socket.next(carol_direct, wait=10))["message"]["body"] == "still friends"
            await carol_socket.nothing(carol_group, wait=1)
