"""The chaos suite's cluster (two `ephemera serve` processes on one PostgreSQL and a private
redis-server) and its workload: senders, a subscriber, readers, and the outcomes they saw."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.exceptions import ConnectionClosed

from tests.conftest import _empty_postgres
from tests.processes import Serving, clean_env, free_port, serving
from tests.subscriptions.test_pubsub_redis import RedisProcess
from tests.test_conversation_events import EVENTS
from tests.test_conversations import SEND
from tests.ws_client import GraphQLSocket, graphql_socket

SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id username } } }"
LOG_IN = "mutation($u: String!, $p: String!) { logIn(input: {username: $u, password: $p}) { token } }"
VIEWER = "{ viewer { username } }"
FEED = "{ feed(first: 10) { edges { node { id } } } }"
APQ_TEXT = "query ChaosApq { viewer { username } }"
APQ_HASH = hashlib.sha256(APQ_TEXT.encode()).hexdigest()
MESSAGES = """
query($id: ID!, $after: String) { node(id: $id) { ... on Conversation {
  messages(first: 100, after: $after) { edges { node { seq clientId } } pageInfo { hasNextPage endCursor } }
} } }
"""
LOG_OUT = "mutation { logOut }"
# Issue 24 item 7: with Redis down an APQ hash alone is PERSISTED_QUERY_NOT_FOUND and a registration
# runs without storing. Until main has that, APQ is held to "no 5xx" before the first Redis fault only.
APQ_SURVIVES_REDIS_FAULTS = True
PASSWORD = "correct horse battery staple"
# The documented bounds for a logged-out token while Redis is down (README, operations.md): refused
# by every process's HTTP within the token cache's lifetime, its sockets closed within a recheck.
TOKEN_CACHE_SECONDS = 2
WS_TOKEN_RECHECK_SECONDS = 3
MESSAGES_PER_PHASE = 6


@dataclass
class Outcomes:
    """What every request got, by path: HTTP statuses, or the transport error's name."""

    seen: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, path: str, outcome: str) -> None:
        self.seen.setdefault(path, Counter())[outcome] += 1

    def failures(self, *paths: str) -> dict[str, Counter[str]]:
        """5xx answers and transport errors on these paths."""
        bad = {}
        for path in paths:
            found = Counter(
                {o: n for o, n in self.seen.get(path, Counter()).items() if not o.startswith(("2", "4"))}
            )
            if found:
                bad[path] = found
        return bad


@dataclass
class Cluster:
    servers: list[Serving]
    redis: RedisProcess
    database_url: str
    outcomes: Outcomes = field(default_factory=Outcomes)
    log_dir: Path = Path(".")
    redis_changes: int = 0  # stops and starts so far: a request spanning one saw Redis go or come

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def stop_redis(self) -> None:
        self.redis_changes += 1
        self.redis.stop()

    def start_redis(self) -> None:
        self.redis.start()
        self.redis_changes += 1

    def logs(self) -> str:
        """What the servers said, but their access lines."""
        said = {
            server.url: [line for line in server.lines if "uvicorn.access" not in line]
            for server in self.servers
        }
        return "\n".join(f"--- {url}\n" + "\n".join(lines) for url, lines in said.items())

    async def post(self, http: httpx.AsyncClient, path: str, url: str, body: Any, token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await http.post(f"{url}/graphql", json=body, headers=headers)
        except httpx.TransportError as exc:
            self.outcomes.add(path, type(exc).__name__)
            return None
        self.outcomes.add(path, str(response.status_code))
        if response.status_code >= 400 or "json" not in response.headers.get("content-type", ""):
            return None
        return response.json()

    async def kill_database_connections(self) -> int:
        """pg_terminate_backend on every session of the test database but this one."""
        engine = create_async_engine(self.database_url)
        try:
            async with engine.connect() as conn:
                killed = await conn.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
        finally:
            await engine.dispose()
        return int(killed or 0)


@pytest.fixture
async def cluster(
    postgres_database: str,
    redis_process: RedisProcess,
    tmp_path: Path,
) -> AsyncIterator[Cluster]:
    await _empty_postgres(postgres_database)
    redis_process.start()
    with ExitStack() as stack:
        servers = [
            stack.enter_context(_serve(postgres_database, redis_process.url, tmp_path / name))
            for name in "ab"
        ]
        yield Cluster(servers, redis_process, postgres_database, log_dir=tmp_path)


@contextlib.contextmanager
def _serve(database_url: str, redis_url: str, data_dir: Path) -> Iterator[Serving]:
    env = clean_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DATA_DIR=str(data_dir),
        SECRET_KEY="chaos-test-secret-key-that-is-long-enough-0123456789",
        PORT=str(free_port()),
        MIGRATE_ON_START="false",
        MUTATIONS_PER_MINUTE_PER_USER="100000",
        MUTATIONS_PER_MINUTE_PER_ADDRESS="100000",
        TOKEN_CACHE_SECONDS=str(TOKEN_CACHE_SECONDS),
        WS_TOKEN_RECHECK_SECONDS=str(WS_TOKEN_RECHECK_SECONDS),
        LOGIN_ATTEMPTS_PER_WINDOW="100000",
        LOG_LEVEL="warning",
    )
    with serving(env) as server:
        yield server


async def sign_up(cluster: Cluster, http: httpx.AsyncClient) -> tuple[str, str, str]:
    """(id, username, token)."""
    name = f"chaos{uuid.uuid4().hex[:8]}"
    variables = {"input": {"username": name, "password": PASSWORD}}
    body = await cluster.post(
        http, "signUp", cluster.urls[0], {"query": SIGN_UP, "variables": variables}, None
    )
    payload = body["data"]["signUp"]
    return payload["user"]["id"], name, payload["token"]


@dataclass
class Sender:
    """Sends numbered messages with a clientId each, retrying each until it is accepted."""

    cluster: Cluster
    http: httpx.AsyncClient
    token: str
    cid: str
    accepted: list[int] = field(default_factory=list)  # seqs, in the order the answers came
    retries: int = 0
    _progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def send(self, n: int) -> None:
        variables = {"cid": self.cid, "body": f"message {n}", "clientId": f"chaos-{n}"}
        url = self.cluster.urls[n % 2]
        for attempt in range(60):
            body = await self.cluster.post(
                self.http, "sendMessage", url, {"query": SEND, "variables": variables}, self.token
            )
            if body and body.get("data") and body["data"].get("sendMessage"):
                async with self._progress:
                    self.accepted.append(body["data"]["sendMessage"]["seq"])
                    self._progress.notify_all()
                return
            self.retries += 1
            url = self.cluster.urls[(n + attempt + 1) % 2]  # as a client behind a load balancer
            await asyncio.sleep(0.1 * min(attempt + 1, 10))  # backing off, as a client does
        raise AssertionError(f"message {n} was never accepted: {body}")

    async def until(self, count: int) -> None:
        async with asyncio.timeout(90), self._progress:
            await self._progress.wait_for(lambda: len(self.accepted) >= count)


@dataclass
class Subscriber:
    """Bob's conversation events on process B; after a lost socket, resubscribes with afterSeq."""

    url: str
    token: str
    cid: str
    seqs: list[int] = field(default_factory=list)
    reconnects: int = 0
    _progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def last(self) -> int:
        return self.seqs[-1] if self.seqs else 0

    async def run(self) -> None:
        while True:
            try:
                async with graphql_socket(
                    self.url.replace("http://", "ws://") + "/graphql", self.token
                ) as socket:
                    await self._read(
                        socket, await socket.subscribe(EVENTS, {"cid": self.cid, "after": self.last})
                    )
            except (ConnectionClosed, OSError, TimeoutError, AssertionError):
                pass
            self.reconnects += 1
            await asyncio.sleep(0.2)

    async def _read(self, socket: GraphQLSocket, op: str) -> None:
        while True:
            message = await socket.message(op, wait=3600)
            if message["type"] != "next" or message["payload"].get("errors"):
                return  # an error or a completion ends this subscription: resubscribe
            found = message["payload"]["data"]["conversationEvents"]
            if found["__typename"] == "MessageAdded":
                async with self._progress:
                    self.seqs.append(found["message"]["seq"])
                    self._progress.notify_all()

    async def until(self, seq: int) -> None:
        async with asyncio.timeout(60), self._progress:
            await self._progress.wait_for(lambda: self.last >= seq)


async def background(
    cluster: Cluster, http: httpx.AsyncClient, token: str, name: str, stop: asyncio.Event
) -> None:
    """Reads, APQ and log-ins on both processes until told to stop."""
    apq_only = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": APQ_HASH}}}
    n = 0
    while not stop.is_set():
        url = cluster.urls[n % 2]
        await cluster.post(http, "query", url, {"query": VIEWER}, token)
        await cluster.post(http, "query", url, {"query": FEED}, token)
        for body in (apq_only, apq_only | {"query": APQ_TEXT}):
            # Before any Redis fault, and from the first one on (see the end of the test).
            await cluster.post(http, "apq-faults" if cluster.redis_changes else "apq", url, body, token)
        if n % 5 == 0:
            await cluster.post(
                http, "logIn", url, {"query": LOG_IN, "variables": {"u": name, "p": PASSWORD}}, None
            )
        n += 1
        await asyncio.sleep(0.05)


async def all_messages(
    cluster: Cluster, http: httpx.AsyncClient, token: str, cid: str
) -> list[tuple[int, str]]:
    found, after = [], None
    for _ in range(20):
        body = await cluster.post(
            http,
            "query",
            cluster.urls[0],
            {"query": MESSAGES, "variables": {"id": cid, "after": after}},
            token,
        )
        page = body["data"]["node"]["messages"]
        found += [(edge["node"]["seq"], edge["node"]["clientId"]) for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("more pages than messages sent")


async def log_in(cluster: Cluster, http: httpx.AsyncClient, name: str) -> str:
    variables = {"u": name, "p": PASSWORD}
    body = await cluster.post(http, "logIn", cluster.urls[0], {"query": LOG_IN, "variables": variables}, None)
    return str(body["data"]["logIn"]["token"])


async def refused_everywhere(cluster: Cluster, http: httpx.AsyncClient, token: str) -> None:
    """Until both processes answer 401 to the token, within the token cache's bound (and a margin)."""
    async with asyncio.timeout(TOKEN_CACHE_SECONDS + 5):
        for url in cluster.urls:
            while (await cluster.post(http, "revoked", url, {"query": VIEWER}, token)) is not None:  # noqa: ASYNC110
                await asyncio.sleep(0.1)  # a cache entry's end is not announced: poll, within the bound
