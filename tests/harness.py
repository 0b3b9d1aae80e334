"""A real server for each test: uvicorn on a loopback port, a GraphQL client, a statement counter."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from sqlalchemy import event
from starlette.applications import Starlette

from app import create_app
from resolvers.clock import ManualClock
from resolvers.context import Services
from settings import Settings

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

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    @property
    def ws_url(self) -> str:
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

    @contextmanager
    def count_statements(self) -> Iterator[list[str]]:
        """Every SQL statement the server runs inside the block."""
        statements: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        engines = [engine.sync_engine for engine in self.services.db.engines]
        for engine in engines:
            event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", record)


def test_settings(database_url: str, redis_url: str | None, data_dir: Any, **overrides: Any) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=data_dir,
        secret_key="test-secret-key",
        migrate_on_start=False,
        password_time_cost=1,
        password_memory_kib=1024,
        **overrides,
    )


@asynccontextmanager
async def running_server(settings: Settings, clock: ManualClock | None = None) -> AsyncIterator[Api]:
    clock = clock or ManualClock()
    app = create_app(settings, clock=clock)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
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
