"""A real server for each test: uvicorn on a loopback port, a GraphQL client, a statement counter."""

from __future__ import annotations

import asyncio
import io
import itertools
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import event
from starlette.applications import Starlette

from app import create_app
from core.clock import ManualClock
from core.context import Services
from core.ids import from_global_id
from core.observability import comparing
from server.runner import DrainingServer, server_config
from settings import Settings
from subscriptions import user_channel

_names = itertools.count(1)


class GraphQLErrors(AssertionError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors

    @property
    def codes(self) -> list[str]:
        return [error.get("extensions", {}).get("code", "") for error in self.errors]


@dataclass
class TestUser:
    __test__ = False  # not a test class, whatever pytest's name rules say

    id: str
    username: str
    token: str
    password: str = "correct horse battery"


@dataclass
class Api:
    """A client of one running server."""

    base_url: str
    app: Starlette
    clock: ManualClock
    http: httpx.AsyncClient = field(repr=False)
    served: bool = True  # on a real socket (uvicorn), or in process

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    @property
    def ws_url(self) -> str:
        if not self.served:
            raise AssertionError("WebSockets need a served app: mark the test @pytest.mark.served")
        return self.base_url.replace("http://", "ws://") + "/graphql"

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return response.json()

    async def gql(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        """The `data` of a request that must succeed."""
        body = await self.post(query, variables, token)
        if body.get("errors"):
            raise GraphQLErrors(body["errors"])
        return body["data"]

    async def gql_error(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> GraphQLErrors:
        """The errors of a request that must fail."""
        body = await self.post(query, variables, token)
        if not body.get("errors"):
            raise AssertionError(f"expected errors, got {body}")
        return GraphQLErrors(body["errors"])

    async def sign_up(self, username: str | None = None, **extra: Any) -> TestUser:
        username = username or f"user{next(_names)}"
        password = extra.pop("password", "correct horse battery")
        data = await self.gql(
            "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id username } } }",
            {"input": {"username": username, "password": password, **extra}},
        )
        payload = data["signUp"]
        return TestUser(payload["user"]["id"], payload["user"]["username"], payload["token"], password)

    async def upload(
        self,
        user: TestUser,
        purpose: str = "POST",
        data: bytes | None = None,
        content_type: str = "image/jpeg",
        declared_size: int | None = None,
    ) -> str:
        """createUpload, then the form POST straight to storage, as a client does; the media's id."""
        data = make_jpeg() if data is None else data
        created = await self.gql(
            CREATE_UPLOAD,
            {
                "input": {
                    "contentType": content_type,
                    "byteSize": declared_size or len(data),
                    "purpose": purpose,
                }
            },
            token=user.token,
        )
        target = created["createUpload"]["upload"]
        response = await post_form(target, data, content_type)
        assert response.status_code in (200, 201, 204), response.text
        media_id: str = created["createUpload"]["media"]["id"]
        return media_id

    async def metric(self, sample: str) -> float:
        """One sample of /metrics (`name{labels}` exactly as exposed), 0 when absent. Metrics are
        process-wide, so tests compare a value before and after, never an absolute one."""
        for line in (await self.http.get("/metrics")).text.splitlines():
            name, _, value = line.rpartition(" ")
            if name == sample:
                return float(value)
        return 0.0

    async def subscribed(self, user: TestUser, count: int = 1) -> None:
        """Until `count` of the user's subscriptions on this server are live and caught up: the
        server's own readiness signal, instead of sleeping and hoping."""
        parsed = from_global_id(user.id)
        assert parsed is not None, user.id
        async with asyncio.timeout(10):
            await self.services.pubsub.caught_up(user_channel(parsed[1]), count)

    @contextmanager
    def count_statements(self) -> Iterator[list[str]]:
        """Every SQL statement the server runs inside the block."""
        statements: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not comparing.get():  # the differential comparison's second run is not the request's
                statements.append(statement)

        engines = [engine.sync_engine for engine in self.services.db.engines]
        for engine in engines:
            event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", record)


CREATE_UPLOAD = """
mutation($input: CreateUploadInput!) {
  createUpload(input: $input) { media { id status } upload { url fields { name value } expiresAt } }
}
"""


def make_jpeg(width: int = 64, height: int = 48, color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG")
    return buffer.getvalue()


async def post_form(target: dict[str, Any], data: bytes, content_type: str) -> httpx.Response:
    """The upload as S3 expects it: the signed fields in order, then the bytes as `file`."""
    fields = [(field["name"], (None, field["value"])) for field in target["fields"]]
    async with http_client() as client:
        return await client.post(target["url"], files=[*fields, ("file", ("upload", data, content_type))])


# Apps running in process, by the base URL they sign their own links with (http://app-N.test).
_IN_PROCESS: dict[str, httpx.ASGITransport] = {}
_hosts = itertools.count(1)


def http_client(**options: Any) -> httpx.AsyncClient:
    """A client for whatever a test fetches: the URLs of an in-process app (its upload forms, its
    media links) go to that app's ASGI transport, any other URL over the network."""
    mounts: dict[str, httpx.AsyncBaseTransport] = dict(_IN_PROCESS)
    return httpx.AsyncClient(mounts=mounts, timeout=30, **options)


# The `server` fixture: `async with server(**setting_overrides) as api` starts one more server.
ServerFactory = Callable[..., AbstractAsyncContextManager["Api"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_settings(database_url: str, redis_url: str | None, data_dir: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "data_dir": data_dir,
        "secret_key": "test-secret-key-of-32-bytes-or-more",
        "migrate_on_start": False,
        "password_time_cost": 1,
        "password_memory_kib": 1024,
        # Tests send bursts (50 concurrent senders); the limits themselves are tested with low values.
        "mutations_per_minute_per_user": 100_000,
        "mutations_per_minute_per_address": 100_000,
        # Periodic jobs stay out of statement counts: tests drain the fan-out outbox themselves.
        "fanout_interval_seconds": 3600,
        # Every request the compiled executor answers is also answered by strawberry, and compared.
        "execution_differential": True,
    }
    return Settings(**(values | overrides))


test_settings.__test__ = False  # type: ignore[attr-defined]


@asynccontextmanager
async def in_process(settings: Settings, clock: ManualClock | None = None) -> AsyncIterator[Api]:
    """The app without a socket, where the network is not the point: its lifespan runs, and
    requests go through httpx's ASGI transport (an exception in the app fails the test). Links the
    app signs (upload forms, media) point at its own test host, which `http_client()` routes back."""
    clock = clock or ManualClock()
    base_url = f"http://app-{next(_hosts)}.test"
    app = create_app(replace(settings, public_base_url=settings.public_base_url or base_url), clock=clock)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    _IN_PROCESS[base_url] = transport
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30) as http,
        ):
            yield Api(base_url, app, clock, http, served=False)
    finally:
        del _IN_PROCESS[base_url]


@asynccontextmanager
async def running_server(settings: Settings, clock: ManualClock | None = None) -> AsyncIterator[Api]:
    clock = clock or ManualClock()
    # The port is known up front because the embedded media store puts it in the URLs it signs.
    port = free_port()
    settings = replace(settings, host="127.0.0.1", port=port)
    app = create_app(settings, clock=clock)
    server = DrainingServer(server_config(app, settings, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            yield Api(base_url, app, clock, http)
    finally:
        server.should_exit = True
        await task
