"""PostgreSQL ending the app's connections (pg_terminate_backend, a restart, a failover): a pooled
connection the server already closed is never handed to a request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from server import http as server_http
from tests.harness import Api

VIEWER = "{ viewer { username } }"


def pooled(api: Api) -> list[Any]:
    """The driver connections idle in the app's pool (SQLAlchemy's QueuePool internals)."""
    queue = api.services.db.writer.pool._pool._queue._queue  # type: ignore[attr-defined]
    return [record.dbapi_connection._connection for record in queue if record.dbapi_connection is not None]


async def test_connections_the_server_ended_are_replaced_before_a_request_gets_one(
    api: Api, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no server to end a connection")
    alice = await api.sign_up()
    await asyncio.gather(*(api.gql(VIEWER, token=alice.token) for _ in range(8)))  # a few pooled
    assert pooled(api)

    killer = create_async_engine(api.services.db.url)
    try:
        async with killer.connect() as conn:
            statement = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            statement += "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            assert await conn.scalar(text(statement))
    finally:
        await killer.dispose()
    async with asyncio.timeout(10):  # until the app has read each server's goodbye
        while not all(connection.is_closed() for connection in pooled(api)):  # noqa: ASYNC110 (no event for it)
            await asyncio.sleep(0.01)

    answers = await asyncio.gather(*(api.post(VIEWER, token=alice.token) for _ in range(8)))

    assert all(answer.get("errors") is None for answer in answers), answers
    assert {answer["data"]["viewer"]["username"] for answer in answers} == {alice.username}


async def test_a_token_check_cut_short_by_a_lost_connection_is_read_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token check runs before GraphQL does: a connection lost under it must not become a 500."""
    alice = await api.sign_up()
    real = server_http.authenticate  # type: ignore[attr-defined]
    calls: list[int] = []

    async def lost_once(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise DBAPIError(
                "SELECT ... FROM tokens", {}, ConnectionError("gone"), connection_invalidated=True
            )
        return await real(*args)

    monkeypatch.setattr(server_http, "authenticate", lost_once)
    response = await api.http.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {alice.token}"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"viewer": {"username": alice.username}}
    assert len(calls) == 2
