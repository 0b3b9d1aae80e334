"""Automatic persisted queries when their store fails or is abused: Redis down is a miss (never a
500, never after a mutation committed), and what is stored is bounded in bytes and in rate."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from schema import build_schema
from server.persisted import MemoryQueryStore
from settings import Settings
from tests.harness import ServerFactory, in_process, running_server, test_settings
from tests.processes import free_port, running
from tests.test_conversations import MESSAGES, start
from tests.test_service_urls import READY
from tests.ws_client import graphql_socket

SEND = """
mutation Send($cid: ID!, $clientId: String!) {
  sendMessage(input: {conversationId: $cid, body: "once", clientId: $clientId}) { seq }
}
"""
VIEWER = "query Viewer { viewer { id } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}


def code_of(response: Any) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


@pytest.fixture
def stoppable_redis(tmp_path: Path, backend: str) -> Iterator[tuple[str, Any]]:
    """A redis-server of the test's own (URL, stop function): the shared one must stay up."""
    if backend == "sqlite":
        pytest.skip("the embedded default keeps persisted queries in process: there is no Redis to lose")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    with running(command, READY, cwd=tmp_path) as (output, _):

        def stop() -> None:
            output.process.kill()
            output.process.wait(timeout=10)

        yield f"redis://127.0.0.1:{port}/0", stop


@pytest.mark.parametrize("transport", ["asgi", "server"])
async def test_apq_with_redis_stopped_is_a_miss_and_a_mutation_runs_once(
    database_url: str, tmp_path: Path, transport: str, stoppable_redis: tuple[str, Any]
) -> None:
    url, stop_redis = stoppable_redis
    run = in_process if transport == "asgi" else running_server
    async with run(test_settings(database_url, url, tmp_path / "data")) as api:
        alice, bob = await api.sign_up(), await api.sign_up()
        cid = await start(api, alice, bob)
        stop_redis()
        headers = {"Authorization": f"Bearer {alice.token}"}
        unknown = await api.http.post("/graphql", json={"extensions": apq(VIEWER)}, headers=headers)
        assert unknown.status_code == 400, unknown.text
        assert code_of(unknown) == "PERSISTED_QUERY_NOT_FOUND"
        body = {"query": SEND, "variables": {"cid": cid, "clientId": "k1"}, "extensions": apq(SEND)}
        sent = await api.http.post("/graphql", json=body, headers=headers)
        assert sent.status_code == 200, sent.text
        assert sent.json()["data"]["sendMessage"]["seq"] == 1
        # Nothing was remembered, so the client is asked for the text again.
        again = await api.http.post("/graphql", json={"extensions": apq(SEND)}, headers=headers)
        assert code_of(again) == "PERSISTED_QUERY_NOT_FOUND"
        messages = await api.gql(MESSAGES, {"id": cid}, token=alice.token)
    assert [edge["node"]["seq"] for edge in messages["node"]["messages"]["edges"]] == [1]


async def test_padding_is_stripped_before_a_text_is_remembered(asgi: ServerFactory, backend: str) -> None:
    if backend == "postgresql":
        pytest.skip("measures the in-process store; the Redis store keeps the same normalised texts")
    async with asgi() as api:
        store: MemoryQueryStore = api.app.state.websockets.documents.memory
        for i in range(30):
            padded = f"# {i}\n" + "#" + "x" * 180_000 + "\n{ __typename }"
            response = await api.http.post("/graphql", json={"query": padded, "extensions": apq(padded)})
            assert response.json()["data"] == {"__typename": "Query"}
        found = await api.http.post("/graphql", json={"extensions": apq(padded)})
        assert found.json()["data"] == {"__typename": "Query"}
        # 30 texts of 180 KB each are kept as "{__typename}".
        assert store.bytes == 30 * len("{__typename}")


async def test_large_texts_are_not_remembered_and_registrations_are_rate_limited(
    asgi: ServerFactory,
) -> None:
    large = '{ user(username: "' + "x" * 70_000 + '") { id } }'
    async with asgi(persisted_queries_registrations_per_minute=3) as api:
        response = await api.http.post("/graphql", json={"query": large, "extensions": apq(large)})
        assert response.json()["data"] == {"user": None}
        missing = await api.http.post("/graphql", json={"extensions": apq(large)})
        assert code_of(missing) == "PERSISTED_QUERY_NOT_FOUND"
        texts = [f"query Q{i} {{ __typename }}" for i in range(5)]
        for text in texts:
            answered = await api.http.post("/graphql", json={"query": text, "extensions": apq(text)})
            assert answered.json()["data"] == {"__typename": "Query"}
        known = [await api.http.post("/graphql", json={"extensions": apq(text)}) for text in texts]
    assert ["errors" not in response.json() for response in known] == [True] * 3 + [False] * 2


def test_the_memory_store_keeps_a_byte_budget() -> None:
    store = MemoryQueryStore(maxsize=1000, max_bytes=10_000)
    for i in range(100):
        store._texts.put(str(i), "x" * 1000, 1000)
    assert store.bytes <= 10_000 and len(store._texts) == 10


@pytest.mark.served
async def test_a_websocket_never_stores_an_invalid_text(server: ServerFactory) -> None:
    invalid = "subscription Nope { noSuchField }"
    async with server() as api:
        alice = await api.sign_up()
        async with graphql_socket(api.ws_url, alice.token) as socket:
            payload = {"query": invalid, "extensions": apq(invalid)}
            refused = await socket.message(await socket.subscribe_payload(payload))
        assert refused["type"] == "error"
        later = await api.http.post("/graphql", json={"extensions": apq(invalid)})
    assert code_of(later) == "PERSISTED_QUERY_NOT_FOUND"


async def test_parse_and_validation_caches_are_bounded_in_bytes() -> None:
    schema = build_schema(Settings(max_aliases=10_000, max_tokens=100_000))
    for i in range(200):
        text = f"query Q{i} {{ __typename }}" + f" # {'y' * 50_000}"
        assert (await schema.execute(text)).data == {"__typename": "Query"}
    extensions = [factory() for factory in schema.extensions]
    caches = [getattr(e, "valid", None) or getattr(e, "parsed", None) for e in extensions]
    held = [cache.bytes for cache in caches if cache is not None]
    assert len(held) == 2 and all(size <= 4 * 1024 * 1024 for size in held), held
