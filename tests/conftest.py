"""Every test that takes `api` runs twice: on the embedded SQLite default, and on PostgreSQL
(with Redis when reachable) as in production. Without those services the PostgreSQL runs skip
with the reason; with CI=true they fail instead.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy.engine import make_url

from execution.executor import differences
from migrations.runner import upgrade_to_head
from models import Base
from tests.harness import Api, ServerFactory, free_port, in_process, running_server, test_settings
from tests.mail_server import mail_api, mailbox  # noqa: F401  (fixtures: a real SMTP server)
from tests.services import (
    IN_CI,
    PostgresDatabase,
    postgres_admin_url,
    redis_reachable,
    redis_url,
    run_blocking,
    unavailable,
)

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}


@dataclass(frozen=True)
class S3:
    endpoint: str
    bucket: str


@pytest.fixture(autouse=True)
def compiled_agrees_with_strawberry() -> Iterator[None]:
    """The suite runs with EXECUTION_DIFFERENTIAL: any request on which the compiled executor and
    strawberry disagree fails the test that sent it, whatever the test itself checks."""
    differences.clear()
    yield
    found, differences[:] = list(differences), []
    assert not found, "\n\n".join(found)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "ephemera.db"
    run_blocking(upgrade_to_head(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    admin = postgres_admin_url()
    if admin is None:
        unavailable("PostgreSQL tests disabled: TEST_DATABASE_URL=skip")
    try:
        db = PostgresDatabase.create(admin)  # type: ignore[arg-type]
    except Exception as exc:
        unavailable(f"PostgreSQL at {admin} is unreachable: {exc!r}")
    run_blocking(upgrade_to_head(db.url))
    yield db.url
    db.drop()


@pytest.fixture(scope="session")
def test_redis_url() -> str | None:
    """The Redis the production-like runs use, or None (the PostgreSQL runs then go without)."""
    url = redis_url()
    if url is None:
        if IN_CI:
            pytest.fail("TEST_REDIS_URL=skip turns Redis off, but CI=true requires it", pytrace=False)
        return None
    if not run_blocking(redis_reachable(url)):
        if IN_CI:
            pytest.fail(f"Redis at {url} is unreachable (CI=true requires it)", pytrace=False)
        return None
    return url


@pytest.fixture
def redis_required(test_redis_url: str | None) -> str:
    """For tests about Redis itself: skip (or fail under CI) without one."""
    if test_redis_url is None:
        unavailable(f"Redis is unreachable at {redis_url()}")
    return test_redis_url  # type: ignore[return-value]


async def _empty_postgres(url: str) -> None:
    """Every table emptied, children first, in one round trip: DELETE on a few rows is ten times
    faster than TRUNCATE, which recreates each table's files."""
    import asyncpg

    tables = reversed(Base.metadata.sorted_tables)
    statements = "".join(f'DELETE FROM "{table.name}";' for table in tables)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statements)
    finally:
        await conn.close()


async def _flush_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        path = tmp_path / "ephemera.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    await _empty_postgres(url)
    return url


@pytest.fixture
async def app_redis_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """Production-like runs use Redis for limits, caches and pub/sub; the embedded default does not."""
    if backend == "sqlite":
        return None
    url: str | None = request.getfixturevalue("test_redis_url")
    if url:
        await _flush_redis(url)
    return url


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[str]:
    """moto's S3 as a real HTTP server on a loopback port, for the production-like runs."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_client(moto_s3: str) -> Any:
    """One S3 client for the session: a new one per test costs more than the bucket it creates."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=moto_s3,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
async def s3_bucket(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> S3 | None:
    """A fresh bucket on moto for the PostgreSQL runs; the SQLite runs use the embedded disk store."""
    if backend == "sqlite":
        return None
    endpoint: str = request.getfixturevalue("moto_s3")
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    bucket = f"ephemera-{uuid.uuid4().hex[:12]}"
    request.getfixturevalue("moto_client").create_bucket(Bucket=bucket)
    return S3(endpoint, bucket)


@pytest.fixture
def server(database_url: str, app_redis_url: str | None, tmp_path: Path) -> ServerFactory:
    """Another server on the same database and Redis, with some settings changed."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Api]:
        data_dir = tmp_path / f"data-{uuid.uuid4().hex[:6]}"
        async with running_server(test_settings(database_url, app_redis_url, data_dir, **overrides)) as api:
            yield api

    return make


@pytest.fixture
def asgi(database_url: str, app_redis_url: str | None, tmp_path: Path) -> ServerFactory:
    """The app in process (no socket), with some settings changed: `async with asgi(**overrides)`."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Api]:
        data_dir = tmp_path / f"data-{uuid.uuid4().hex[:6]}"
        async with in_process(test_settings(database_url, app_redis_url, data_dir, **overrides)) as api:
            yield api

    return make


@pytest.fixture
async def api(
    database_url: str,
    app_redis_url: str | None,
    s3_bucket: S3 | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Api]:
    """The app in process by default; on a real socket (uvicorn on loopback) for tests marked
    `served`: WebSockets, and what a real connection changes (client addresses, streaming).
    `@pytest.mark.settings(name=value)` changes settings of the app."""
    s3 = {"s3_bucket": s3_bucket.bucket, "s3_endpoint_url": s3_bucket.endpoint} if s3_bucket else {}
    marker = request.node.get_closest_marker("settings")
    overrides = s3 | (marker.kwargs if marker else {})
    settings = test_settings(database_url, app_redis_url, tmp_path / "data", **overrides)
    run = running_server if request.node.get_closest_marker("served") else in_process
    async with run(settings) as client:
        yield client
