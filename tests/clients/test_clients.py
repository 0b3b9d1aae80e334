"""The npm clients frontend teams use, with their defaults, against a running server: Apollo Client
(HttpLink, BatchHttpLink, PersistedQueryLink, GraphQLWsLink), urql, graphql-ws, and relay-compiler
compiling a small project (@connection, @refetchable, persisted output) whose documents then run
on a server that accepts trusted documents only. The set-ups are the ones docs/api.md shows."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Api, ServerFactory, TestUser
from tests.npm import installed
from tests.story_helpers import add_edges, create_story, db_id
from tests.test_conversations import send, start

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

HERE = Path(__file__).parent
RELAY = HERE / "relay"
SCHEMA = HERE.parent.parent / "schema.graphql"
LOG_OUT = "mutation { logOut }"


@pytest.fixture(scope="session")
def clients() -> Path:
    """The npm clients, pinned in tests/clients/."""
    return installed(HERE, "the client suite")


async def run_node(script: str, arguments: dict[str, Any]) -> Any:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(HERE / script),
        json.dumps(arguments),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()
    return json.loads(stdout)


async def world(api: Api) -> tuple[TestUser, TestUser, str, str]:
    """alice posts a story and talks with bob, who follows her: (alice, bob, conversation, story)."""
    alice, bob = await api.sign_up("alice"), await api.sign_up("bob")
    await add_edges(api, [("follow", db_id(bob.id), db_id(alice.id))])
    story = await create_story(api, alice)
    conversation = await start(api, alice, bob)
    await send(api, alice, conversation, "hello bob")
    return alice, bob, conversation, story


def urls(api: Api) -> dict[str, str]:
    return {"httpUrl": f"{api.base_url}/graphql", "wsUrl": api.ws_url}


async def test_apollo_client(api: Api, clients: Path) -> None:
    _, bob, conversation, story = await world(api)
    result = await run_node(
        "apollo.mjs", {**urls(api), "token": bob.token, "conversationId": conversation, "storyId": story}
    )
    assert result["viewer"] == {"__typename": "User", "id": bob.id, "username": "bob"}
    # The tray entry is a normalized record: the mutation's update reaches it without a refetch.
    assert result["trayBefore"]["hasUnseen"] is True
    assert result["trayAfter"] == {"hasUnseen": False, "seen": [True]}
    assert result["trayCacheKey"] == f"StoryTrayItem:{result['trayBefore']['id']}"
    assert result["httpRequests"] == 3  # viewer, tray, mutation: no refetch
    assert result["batch"] == {"requests": 1, "operations": 3, "ids": [bob.id] * 3}
    # BatchHttpLink splits at its batchMax of 10: the server's limit fits it.
    assert result["batchOfEleven"] == {"requests": 2, "answered": 11}
    assert result["persisted"]["data"] == [{"viewer": None}, {"viewer": None}]
    assert result["persisted"]["calls"] == [
        {"method": "GET", "hasQuery": False},  # the hash alone: PERSISTED_QUERY_NOT_FOUND
        {"method": "POST", "hasQuery": True},  # the retry with the text registers it
        {"method": "GET", "hasQuery": False},  # a new client: the hash alone is enough
    ]
    subscription = result["subscription"]
    assert subscription["afterSeq"] == 1
    assert subscription["received"]["seq"] == subscription["sent"]["seq"] == 2
    assert subscription["received"]["body"] == "from Apollo"
    assert subscription["connections"] == 1


async def test_graphql_ws_stops_retrying_after_4403(api: Api, clients: Path) -> None:
    alice = await api.sign_up("alice")
    revoked = await api.sign_up("carol")
    await api.gql(LOG_OUT, token=revoked.token)
    result = await run_node(
        "graphql-ws.mjs", {**urls(api), "token": alice.token, "revokedToken": revoked.token}
    )
    assert result["query"] == {"viewer": {"username": "alice"}}
    assert result["revoked"] == {"code": 4403, "connecting": 1, "closes": [4403]}


async def test_urql(api: Api, clients: Path) -> None:
    _, bob, conversation, _ = await world(api)
    result = await run_node("urql.mjs", {**urls(api), "token": bob.token, "conversationId": conversation})
    assert result["error"] is None
    assert result["viewer"]["username"] == "bob"
    assert result["afterSeq"] == 1
    received, sent = result["received"], result["sent"]
    assert (received["id"], received["seq"], received["body"]) == (sent["id"], sent["seq"], "from urql")


@pytest.fixture
def relay_project(clients: Path, tmp_path: Path) -> Path:
    """relay-compiler run on tests/clients/relay against schema.graphql; its persisted documents."""
    project = tmp_path / "relay"
    shutil.copytree(RELAY / "src", project / "src")
    (project / "__generated__").mkdir()
    (project / "persisted_queries.json").write_text("{}")
    config = json.loads((RELAY / "relay.config.json").read_text())
    (project / "relay.config.json").write_text(json.dumps({**config, "schema": str(SCHEMA)}))
    compiled = subprocess.run(
        [str(clients / "node_modules" / ".bin" / "relay-compiler")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    return project


async def test_relay_compiles_and_runs_persisted_documents(
    server: ServerFactory, relay_project: Path
) -> None:
    manifest = relay_project / "persisted_queries.json"
    async with server() as open_server:
        alice = await open_server.sign_up("alice")
    async with server(trusted_documents="required", trusted_documents_manifest=manifest) as api:
        result = await run_node(
            "relay.mjs",
            {**urls(api), "token": alice.token, "generated": str(relay_project / "__generated__")},
        )
        refused = await api.post("{ viewer { id } }", token=alice.token)
    assert result["viewer"] == "alice" and result["storedUser"] == "alice"
    assert result["paginationHasFeed"] and result["profileFound"]
    assert [call["name"] for call in result["sent"]] == [
        "FeedQuery",
        "FeedPaginationQuery",
        "ProfileRefetchQuery",
    ]
    assert not any(call["hasText"] for call in result["sent"])  # ids only: the text stays on the server
    assert refused["errors"][0]["extensions"]["code"] == "PERSISTED_DOCUMENT_REQUIRED"
