"""Generated ids stay unique across processes without NODE_ID: node ids are leased, renewed and
never used past their lease."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from core.clock import ManualClock
from core.database import Database
from core.id_leases import MARGIN_SECONDS, NodeLease
from core.ids import NODE_BITS, SEQUENCE_BITS, IdGenerator, NodeIdUnavailable, id_time
from models import IdNodeLease, Media
from tests.processes import clean_env, free_port, serving

SIGN_UP = 'mutation { signUp(input: {username: "ids", password: "correct horse"}) { token } }'
UPLOADS = "mutation {{ {fields} }}"
ONE_UPLOAD = 'u{n}: createUpload(input: {{contentType: "image/jpeg", byteSize: 1000, purpose: POST}}) {{ media {{ id }} }}'  # noqa: E501


def node_of(value: int) -> int:
    return (value >> SEQUENCE_BITS) & ((1 << NODE_BITS) - 1)


def test_ids_come_from_the_app_clock_and_stop_when_the_lease_runs_out() -> None:
    clock = ManualClock(datetime(2026, 6, 1, tzinfo=UTC))
    ids = IdGenerator(clock=clock)
    with pytest.raises(NodeIdUnavailable):
        ids.next_id()  # no node id yet
    ids.hold(7, valid_until=time.monotonic() + 60)
    first = ids.next_id()
    assert node_of(first) == 7 and id_time(first) == clock.now()
    clock.advance(1)
    assert id_time(ids.next_id()) == clock.now()
    ids.hold(7, valid_until=time.monotonic() - 1)  # renewal failed for a whole lease
    with pytest.raises(NodeIdUnavailable):
        ids.next_id()


async def test_processes_lease_different_node_ids_and_take_over_only_expired_ones(database_url: str) -> None:
    db = Database.open(database_url)
    try:
        first, second = IdGenerator(), IdGenerator()
        a, b = NodeLease(db, first), NodeLease(db, second)
        assert await a.acquire() != await b.acquire()
        # a's lease lapses (its process is gone): the next process may take that node id, and its
        # ids sort after the end of a's lease.
        ended = datetime.now(UTC) + timedelta(minutes=5)
        async with db.write() as session:
            await session.execute(
                update(IdNodeLease)
                .where(IdNodeLease.node_id == a.node_id)
                .values(expires_at_ms=0, holder="gone")
            )
        third = IdGenerator(clock=ManualClock(ended - timedelta(days=1)))
        c = NodeLease(db, third)
        await c.acquire()
        if c.node_id == a.node_id:
            assert third.next_id() > first.next_id()
        # A renewal that finds its row taken leases another node id instead of sharing one.
        async with db.write() as session:
            await session.execute(
                update(IdNodeLease).where(IdNodeLease.node_id == b.node_id).values(holder="someone else")
            )
        taken = b.node_id
        await b.renew()
        assert b.node_id != taken and node_of(second.next_id()) == b.node_id
        assert second.valid_until is not None
        assert second.valid_until <= time.monotonic() + b.lease_seconds - MARGIN_SECONDS
        for lease in (a, b, c):
            await lease.release()
    finally:
        await db.close()


@pytest.mark.slow
async def test_two_server_processes_without_node_id_never_collide(
    postgres_database: str, tmp_path: Path
) -> None:
    """Two real servers on one PostgreSQL, no NODE_ID: 10,000 rows each, created at the same time."""
    from tests.conftest import _empty_postgres

    await _empty_postgres(postgres_database)
    envs = [
        clean_env(
            DATABASE_URL=postgres_database,
            SECRET_KEY="ids",
            DATA_DIR=str(tmp_path / f"data{n}"),
            PORT=str(free_port()),
            LOG_LEVEL="warning",
            MUTATIONS_PER_MINUTE_PER_USER="1000000",
            MUTATIONS_PER_MINUTE_PER_ADDRESS="1000000",
        )
        for n in range(2)
    ]
    with serving(envs[0]) as one, serving(envs[1]) as two:
        token = await _sign_up(one.url)
        made = await asyncio.gather(
            _create_uploads(one.url, token, 10_000), _create_uploads(two.url, token, 10_000)
        )
    assert list(made) == [10_000, 10_000]
    db = Database.open(postgres_database)
    try:
        async with db.read() as session:
            ids = list(await session.scalars(select(Media.id)))
            assert await session.scalar(select(func.count(func.distinct(Media.id)))) == 20_000
    finally:
        await db.close()
    assert len({node_of(value) for value in ids}) == 2  # one node id per process, none shared


async def _sign_up(url: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        body = (
            await http.post(
                "/graphql",
                json={"query": SIGN_UP},
            )
        ).json()
    token: str = body["data"]["signUp"]["token"]
    return token


async def _create_uploads(url: str, token: str, count: int) -> int:
    """`count` media rows through createUpload: up to 15 aliased mutations per operation, 10
    operations per batched request."""
    sizes = [min(15, count - start) for start in range(0, count, 15)]
    operations = [
        {"query": UPLOADS.format(fields=" ".join(ONE_UPLOAD.format(n=n) for n in range(size)))}
        for size in sizes
    ]
    made = 0
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        for start in range(0, len(operations), 10):
            batch = operations[start : start + 10]
            headers = {"Authorization": f"Bearer {token}"}
            for answer in (await http.post("/graphql", json=batch, headers=headers)).json():
                assert "errors" not in answer, answer["errors"]
                made += len(answer["data"])
    return made
