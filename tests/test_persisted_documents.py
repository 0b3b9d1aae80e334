"""Automatic persisted queries (Apollo's protocol) and trusted documents, over HTTP and WebSocket."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from server.trusted import ManifestError, build_manifest, main
from tests.harness import ServerFactory, test_settings
from tests.ws_client import graphql_socket

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

VIEWER = "query Viewer { viewer { id } }"
VIEWER_HASH = hashlib.sha256(VIEWER.encode()).hexdigest()


def apq(hash_: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": hash_}}


def manifest_ids(path: Path) -> dict[str, str]:
    """The manifest's ids by operation name."""
    listed: dict[str, str] = json.loads(path.read_text())
    return {text.split(" ")[1]: key for key, text in listed.items()}


def code_of(response: Any) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_an_unknown_hash_is_not_found_then_the_text_registers_it(asgi: ServerFactory) -> None:
    async with asgi() as api:
        unknown = await api.http.post("/graphql", json={"extensions": apq(VIEWER_HASH)})
        assert unknown.status_code == 400 and code_of(unknown) == "PERSISTED_QUERY_NOT_FOUND"
        assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
        registered = await api.http.post("/graphql", json={"query": VIEWER, "extensions": apq(VIEWER_HASH)})
        assert registered.json()["data"] == {"viewer": None}
        by_hash = await api.http.post("/graphql", json={"extensions": apq(VIEWER_HASH)})
        assert by_hash.json()["data"] == {"viewer": None}


async def test_a_hash_that_does_not_match_the_text_is_refused(asgi: ServerFactory) -> None:
    async with asgi() as api:
        wrong = await api.http.post("/graphql", json={"query": VIEWER, "extensions": apq("0" * 64)})
        malformed = await api.http.post("/graphql", json={"query": VIEWER, "extensions": apq("xyz")})
        later = await api.http.post("/graphql", json={"extensions": apq("0" * 64)})
    assert wrong.status_code == 400 and code_of(wrong) == "BAD_REQUEST"
    assert malformed.status_code == 400 and code_of(malformed) == "BAD_REQUEST"
    assert code_of(later) == "PERSISTED_QUERY_NOT_FOUND"


async def test_an_invalid_document_is_not_remembered(asgi: ServerFactory) -> None:
    invalid = "{ nope }"
    hash_ = hashlib.sha256(invalid.encode()).hexdigest()
    async with asgi() as api:
        first = await api.http.post("/graphql", json={"query": invalid, "extensions": apq(hash_)})
        again = await api.http.post("/graphql", json={"extensions": apq(hash_)})
    assert code_of(first) == "BAD_USER_INPUT"
    assert code_of(again) == "PERSISTED_QUERY_NOT_FOUND"


async def test_get_with_a_known_hash_is_cacheable_when_anonymous(asgi: ServerFactory) -> None:
    params = {"extensions": json.dumps(apq(VIEWER_HASH)), "operationName": "Viewer"}
    async with asgi() as api:
        alice = await api.sign_up()
        await api.http.post("/graphql", json={"query": VIEWER, "extensions": apq(VIEWER_HASH)})
        anonymous = await api.http.get("/graphql", params=params, headers={"accept": "*/*"})
        signed_in = await api.http.get(
            "/graphql", params=params, headers={"Authorization": f"Bearer {alice.token}"}
        )
    assert anonymous.status_code == 200 and anonymous.json()["data"] == {"viewer": None}
    assert anonymous.headers["cache-control"] == "public, max-age=60"
    assert "Authorization" in anonymous.headers["vary"]
    assert signed_in.json()["data"]["viewer"]["id"] == alice.id
    assert signed_in.headers["cache-control"] == "no-store"


async def test_apq_can_be_turned_off(asgi: ServerFactory) -> None:
    async with asgi(persisted_queries="off") as api:
        response = await api.http.post("/graphql", json={"query": VIEWER, "extensions": apq(VIEWER_HASH)})
    assert code_of(response) == "PERSISTED_QUERY_NOT_SUPPORTED"
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotSupported"


async def test_hashes_are_shared_through_redis(
    server: ServerFactory, redis_required: str, backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("the embedded default keeps hashes in process; the PostgreSQL run has Redis")
    async with server() as one, server() as two:
        await one.http.post("/graphql", json={"query": VIEWER, "extensions": apq(VIEWER_HASH)})
        found = await two.http.post("/graphql", json={"extensions": apq(VIEWER_HASH)})
    assert found.json()["data"] == {"viewer": None}


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    folder = tmp_path / "graphql"
    folder.mkdir()
    (folder / "viewer.graphql").write_text("query Viewer {\n  viewer { ...Me }\n}\n")
    (folder / "fragments.graphql").write_text("# shared\nfragment Me on User { id username }\n")
    (folder / "events.graphql").write_text("subscription Events { conversationEvents { __typename } }\n")
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(build_manifest(folder)))
    return path


def test_the_manifest_command_writes_one_document_per_operation(
    manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(manifest.parent / "graphql")]) == 0
    built = json.loads(capsys.readouterr().out)
    assert sorted(text.split(" ")[1] for text in built.values()) == ["Events", "Viewer"]
    viewer = next(text for text in built.values() if "Viewer" in text)
    assert "fragment Me on User" in viewer
    assert all(key == hashlib.sha256(text.encode()).hexdigest() for key, text in built.items())
    assert main([str(manifest)]) == 2


async def test_only_trusted_documents_run_when_required(asgi: ServerFactory, manifest: Path) -> None:
    viewer_id = manifest_ids(manifest)["Viewer"]
    async with asgi(trusted_documents="required", trusted_documents_manifest=manifest) as api:
        by_id = await api.http.post("/graphql", json={"documentId": viewer_id})
        # The same document, formatted differently and with the __typename a cache adds.
        by_text = await api.post(
            "query Viewer { viewer { ...Me __typename } } fragment Me on User { __typename id username }"
        )
        other = await api.http.post("/graphql", json={"query": "{ viewer { id } }"})
        unknown = await api.http.post("/graphql", json={"documentId": "nope"})
        by_hash = await api.http.post("/graphql", json={"extensions": apq(viewer_id)})
    assert by_id.json()["data"] == {"viewer": None}
    assert by_text["data"] == {"viewer": None}
    assert other.status_code == 400 and code_of(other) == "PERSISTED_DOCUMENT_REQUIRED"
    assert code_of(unknown) == "PERSISTED_DOCUMENT_NOT_FOUND"
    assert by_hash.json()["data"] == {"viewer": None}


async def test_graphiql_keeps_working_in_development_but_not_in_production(
    asgi: ServerFactory, manifest: Path
) -> None:
    query = {"query": "{ viewer { id } }"}
    required = {"trusted_documents": "required", "trusted_documents_manifest": manifest}
    async with asgi(**required) as api:
        same_origin = {"Origin": api.base_url}
        explorer = await api.http.post("/graphql", json=query, headers=same_origin)
        elsewhere = await api.http.post("/graphql", json=query, headers={"Origin": "https://evil.example"})
    async with asgi(env="production", graphiql=True, **required) as api:
        production = await api.http.post("/graphql", json=query, headers={"Origin": api.base_url})
    assert explorer.json()["data"] == {"viewer": None}
    assert code_of(elsewhere) == "PERSISTED_DOCUMENT_REQUIRED"
    assert code_of(production) == "PERSISTED_DOCUMENT_REQUIRED"


async def test_trusted_documents_hold_on_websockets(server: ServerFactory, manifest: Path) -> None:
    events_id = manifest_ids(manifest)["Events"]
    async with server() as open_server:
        alice = await open_server.sign_up()
    required = server(trusted_documents="required", trusted_documents_manifest=manifest)
    async with required as api, graphql_socket(api.ws_url, alice.token) as socket:
        refused = await socket.message(
            await socket.subscribe("subscription { storyActivity { __typename } }")
        )
        # A listed subscription runs: it waits for events instead of being refused.
        await socket.nothing(await socket.subscribe_payload({"documentId": events_id}))
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_DOCUMENT_REQUIRED"


def test_a_broken_manifest_stops_the_server_at_start(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": "query {"}')
    with pytest.raises(ManifestError, match="does not parse"):
        create_app(
            test_settings(
                f"sqlite+aiosqlite:///{tmp_path}/e.db", None, tmp_path, trusted_documents_manifest=broken
            )
        )
