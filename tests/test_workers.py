"""Several workers per host, started together on PostgreSQL and Redis as an operator would:
`ephemera migrate` on several hosts at once, and `ephemera serve --workers N`.

What a platform team relies on: migrations started together run once; every worker leases its
own node id; periodic work (the story sweeper and the outbox behind it) is done once however many
workers run it; a subscriber on one worker gets, in order, what every worker accepted; /metrics
adds up all workers; a worker that dies is replaced; stopping the server stops every worker.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from core.ids import IdGenerator, from_global_id
from migrations.runner import head_revision, upgrade_to_head
from models import IdNodeLease, Media, MediaStatus, Outbox, Story, StoryEvent, User
from tests.conftest import _flush_redis
from tests.harness import Api
from tests.processes import ROOT, clean_env, serving
from tests.services import PostgresDatabase, postgres_admin_url, run_blocking, unavailable
from tests.test_conversation_events import EVENTS, event
from tests.test_conversations import START
from tests.ws_client import graphql_socket

pytestmark = pytest.mark.slow

STARTED = re.compile(r"Started server process \[(\d+)\]")
SEND = """
mutation($cid: ID!, $body: String!, $clientId: String!) {
  sendMessage(input: {conversationId: $cid, body: $body, clientId: $clientId}) { id seq }
}
"""


@pytest.fixture
def empty_database() -> Iterator[str]:
    admin = postgres_admin_url()
    if admin is None:
        unavailable("PostgreSQL tests disabled: TEST_DATABASE_URL=skip")
    try:
        db = PostgresDatabase.create(admin)  # type: ignore[arg-type]
    except Exception as exc:
        unavailable(f"PostgreSQL at {admin} is unreachable: {exc!r}")
    try:
        yield db.url
    finally:
        db.drop()


def test_migrations_started_together_run_once(empty_database: str) -> None:
    env = clean_env(DATABASE_URL=empty_database)
    migrations = [
        subprocess.Popen(
            [sys.executable, "-m", "commands", "migrate"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in migrations]
    assert [process.returncode for process in migrations] == [0] * 4, outputs
    assert all(f"latest revision ({head_revision()})" in output for output in outputs)
    assert run_blocking(_revision(empty_database)) == head_revision()


async def _revision(url: str) -> str:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    await engine.dispose()
    return str(revision)


STORIES = 450  # three of the sweeper's batches of 200, for the workers to share


async def _plant_expired_stories(url: str, media_root: Path) -> list[Path]:
    """Stories past expiry and retention, each with a media file on disk: the sweeper's work."""
    ids = IdGenerator(node_id=1023)
    long_ago = datetime.now(UTC) - timedelta(days=3)
    owner = User(
        id=ids.next_id(), username="author", password_hash="-", created_at=long_ago, last_active_at=long_ago
    )
    files: list[Path] = []
    rows: list[Media | Story] = []
    for n in range(STORIES):
        media_id = ids.next_id()
        key = f"media/story/{owner.id}/{media_id}-v{n}.jpg"
        path = media_root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xd8\xff story")
        files.append(path)
        rows.append(
            Media(
                id=media_id,
                owner_id=owner.id,
                purpose="STORY",
                kind="IMAGE",
                content_type="image/jpeg",
                byte_size=9,
                status=MediaStatus.READY,
                storage_key=key,
                variants=[],
                created_at=long_ago,
            )
        )
        rows.append(
            Story(
                id=ids.next_id(),
                author_id=owner.id,
                media_id=media_id,
                audience="PUBLIC",
                created_at=long_ago,
                expires_at=long_ago + timedelta(hours=24),
            )
        )
    engine = create_async_engine(url)
    async with AsyncSession(engine) as session, session.begin():
        session.add(owner)
        await session.flush()
        session.add_all(rows)
    await engine.dispose()
    return files


@pytest.fixture
async def migrated(empty_database: str, redis_required: str) -> AsyncIterator[str]:
    await upgrade_to_head(empty_database)
    await _flush_redis(redis_required)
    yield empty_database


def worker_env(database_url: str, redis_url: str, data_dir: Path, workers: int) -> dict[str, str]:
    return clean_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DATA_DIR=str(data_dir),
        PORT="0",
        SECRET_KEY="test-secret-key",
        WEB_CONCURRENCY=str(workers),
        LOG_LEVEL="info",
        STORY_SWEEP_INTERVAL_SECONDS="1",
        FANOUT_INTERVAL_SECONDS="1",
        MUTATIONS_PER_MINUTE_PER_USER="100000",
        MUTATIONS_PER_MINUTE_PER_ADDRESS="100000",
    )


@pytest.mark.parametrize("workers", [2, 4])
async def test_workers_share_start_up_periodic_work_and_delivery(
    workers: int, migrated: str, redis_required: str, tmp_path: Path
) -> None:
    files = await _plant_expired_stories(migrated, tmp_path / "data" / "media")
    with serving(
        worker_env(migrated, redis_required, tmp_path / "data", workers), stop=signal.SIGINT
    ) as server:
        assert any(f"listening on {server.url} with {workers} workers" in line for line in server.lines)
        pids = {int(m.group(1)) for line in server.lines if (m := STARTED.search(line))}
        assert len(pids) == workers

        engine = create_async_engine(migrated)
        try:
            async with engine.connect() as conn:
                leases = (await conn.execute(select(IdNodeLease.node_id, IdNodeLease.holder))).all()
            assert len({node for node, _ in leases}) == len({holder for _, holder in leases}) == workers

            await _until_swept(engine)
            async with engine.connect() as conn:
                per_story = (
                    await conn.execute(
                        select(StoryEvent.story_id, func.count())
                        .where(StoryEvent.kind == "story_expired")
                        .group_by(StoryEvent.story_id)
                    )
                ).all()
        finally:
            await engine.dispose()
        assert len(per_story) == STORIES and {count for _, count in per_story} == {1}
        assert not any(path.exists() for path in files)
        async with httpx.AsyncClient(base_url=server.url) as http:
            metrics = (await http.get("/metrics")).text
        assert _sample(metrics, 'ephemera_job_items_total{job="expired-stories"}') == STORIES

        nodes = await _deliveries_in_order(server.url)
        assert len(nodes) >= 2, "every send landed on one worker"
    for pid in pids:
        assert not _alive(pid), f"worker {pid} outlived the server"
    assert server.returncode == 0


async def _until_swept(engine: AsyncEngine) -> None:
    for _ in range(600):
        async with engine.connect() as conn:
            left = await conn.scalar(
                select(func.count()).select_from(Story).where(Story.media_id.is_not(None))
            )
            outbox = await conn.scalar(select(func.count()).select_from(Outbox))
        if left == 0 and outbox == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{left} stories were never swept ({outbox} outbox rows left)")


def _sample(metrics: str, name: str) -> float:
    line = next(line for line in metrics.splitlines() if line.startswith(name + " "))
    return float(line.rsplit(" ", 1)[1])


async def _deliveries_in_order(url: str) -> set[int]:
    """40 messages sent at once on new connections (so to every worker), received in seq order by
    a subscriber on one worker; the node ids (one per worker) that created them."""
    api = Api(url, None, None, httpx.AsyncClient(base_url=url, timeout=30))  # type: ignore[arg-type]
    try:
        alice, bob = await api.sign_up(), await api.sign_up()
        cid = (await api.gql(START, {"ids": [bob.id]}, token=alice.token))["startConversation"]["id"]
        async with graphql_socket(api.ws_url, bob.token) as socket:
            op = await socket.subscribe(EVENTS, {"cid": cid, "after": 0})
            sent = await asyncio.gather(*(_send_alone(url, alice.token, cid, n) for n in range(40)))
            received = [event(await socket.next(op, wait=15))["message"] for _ in range(40)]
            await socket.nothing(op)
    finally:
        await api.http.aclose()
    assert [message["seq"] for message in received] == list(range(1, 41))
    assert sorted(message["body"] for message in received) == sorted(f"n{n}" for n in range(40))
    return {(_db_id(message["id"]) >> 12) & 1023 for message in sent}


async def _send_alone(url: str, token: str, cid: str, n: int) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:  # a connection of its own
        response = await http.post(
            "/graphql",
            json={"query": SEND, "variables": {"cid": cid, "body": f"n{n}", "clientId": f"c{n}"}},
            headers={"Authorization": f"Bearer {token}"},
        )
    message: dict[str, str] = response.json()["data"]["sendMessage"]
    return message


def _db_id(global_id: str) -> int:
    parsed = from_global_id(global_id)
    assert parsed is not None
    return parsed[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_worker_that_dies_is_replaced(migrated: str, redis_required: str, tmp_path: Path) -> None:
    with serving(worker_env(migrated, redis_required, tmp_path / "data", 2)) as server:
        first = [int(m.group(1)) for line in server.lines if (m := STARTED.search(line))]
        os.kill(first[0], signal.SIGKILL)
        server.output.wait_for(
            re.compile(rf"worker \d \(pid {first[0]}\) exited with status -9; starting another")
        )
        server.output.wait_for(re.compile(rf"Started server process \[(?!{first[0]}\]|{first[1]}\])\d+\]"))
        async with httpx.AsyncClient(base_url=server.url) as http:
            for _ in range(10):
                assert (await http.get("/readyz")).json()["status"] == "ok"
    assert server.returncode == 0


def test_several_workers_refuse_what_only_one_process_can_share(tmp_path: Path) -> None:
    env = clean_env(DATA_DIR=str(tmp_path / "data"), PORT="0")
    done = subprocess.run(
        [sys.executable, "-m", "commands", "serve", "--workers", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "ephemera: 2 workers need DATABASE_URL (PostgreSQL) and REDIS_URL: the embedded SQLite file and the "
        "in-process pub/sub serve one process only (a subscriber on one worker would miss what another "
        "publishes); set them, or run one worker (WEB_CONCURRENCY=1)"
    )


def test_a_worker_that_cannot_start_stops_the_server_with_one_line(
    empty_database: str, redis_required: str, tmp_path: Path
) -> None:
    # Redis answers (it is checked first); each worker then checks the database's revision, and
    # every one of them fails.
    env = clean_env(DATABASE_URL=empty_database, REDIS_URL=redis_required, PORT="0")
    done = subprocess.run(
        [sys.executable, "-m", "commands", "serve", "--workers", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = [line for line in done.stderr.splitlines() if line.startswith("ephemera: ")]
    assert done.returncode == 2
    assert said == [
        f"ephemera: DATABASE_URL: the database is at revision none (empty), but this version needs "
        f"{head_revision()}: run `make migrate` (or `.venv/bin/ephemera migrate`) with the same "
        "DATABASE_URL, then start the server again"
    ]
