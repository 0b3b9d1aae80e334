"""Both storage backends behind one `storage` fixture: S3 on a loopback moto server, and local disk."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aioboto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from starlette.applications import Starlette

from media import LocalStorage, Storage
from media.s3 import S3Storage
from server.media_routes import local_media_routes

REGION = "us-east-1"
LOCAL_BASE_URL = "http://media.test"
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    # Never read a developer's real profile or credentials.
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 as a real HTTP server on loopback; clients get credentials from `aws_env`."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The moto endpoint, with fake credentials in the environment for this test."""
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    return moto_endpoint


async def create_bucket(endpoint: str) -> str:
    name = f"ephemera-test-{uuid.uuid4().hex[:12]}"
    async with aioboto3.Session().client("s3", endpoint_url=endpoint, region_name=REGION) as client:
        await client.create_bucket(Bucket=name)
    return name


@pytest.fixture
async def bucket(aws_env: str) -> str:
    return await create_bucket(aws_env)


@pytest.fixture
async def open_s3(aws_env: str, bucket: str) -> AsyncIterator[Callable[..., Awaitable[S3Storage]]]:
    """`await open_s3(**options)`: an S3Storage on a fresh moto bucket, closed after the test."""
    opened: list[S3Storage] = []

    async def open_storage(**options: Any) -> S3Storage:
        options = {"bucket": bucket, "region": REGION, "endpoint_url": aws_env, **options}
        opened.append(await S3Storage.open(**options))
        return opened[-1]

    yield open_storage
    for store in opened:
        await store.close()


@pytest.fixture
def dead_endpoint() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    return root


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def advance_clock(clock: FakeClock) -> Callable[[int], None]:
    def advance(seconds: int) -> None:
        clock.now += timedelta(seconds=seconds)

    return advance


@pytest.fixture(params=["s3", "local"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def storage(backend: str, request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[Storage]:
    store: Storage
    if backend == "s3":
        endpoint = request.getfixturevalue("aws_env")  # only S3 runs need the moto server
        name = await create_bucket(endpoint)
        store = await S3Storage.open(bucket=name, region=REGION, endpoint_url=endpoint, clock=clock)
    else:
        root: Path = request.getfixturevalue("media_root")
        store = LocalStorage(root, secret=b"test-secret", base_url=LOCAL_BASE_URL, clock=clock)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def http(storage: Storage) -> AsyncIterator[httpx.AsyncClient]:
    """A client that reaches the storage's URLs: moto over loopback, or the local routes in-process."""
    if isinstance(storage, LocalStorage):
        app = Starlette(routes=local_media_routes(storage))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    else:
        client = httpx.AsyncClient()
    async with client:
        yield client
