"""GraphQL over HTTP as the spec asks, checked by the graphql-http audit suite and directly."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.harness import Api
from tests.npm import installed

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

JS = Path(__file__).parent / "js"
GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture(scope="session")
def audit_script() -> Path:
    """graphql-http's audit, pinned in tests/js/."""
    return installed(JS, "the graphql-http audit", timeout=300) / "audit.mjs"


async def test_the_graphql_http_audit_passes_without_warnings(api: Api, audit_script: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(audit_script),
        f"{api.base_url}/graphql",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    assert json.loads(stdout) == [], stdout.decode()
    assert "warn=0 error=0" in stderr.decode()


async def test_request_errors_are_400_without_data_for_graphql_response_clients(api: Api) -> None:
    headers = {"Accept": GRAPHQL_RESPONSE}
    response = await api.http.post("/graphql", json={"query": "{ viewer { nope } }"}, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in response.json()
    ok = await api.http.post("/graphql", json={"query": "{ viewer { id } }"}, headers=headers)
    assert ok.status_code == 200 and ok.json()["data"] == {"viewer": None}


async def test_legacy_json_clients_get_200(api: Api) -> None:
    response = await api.http.post("/graphql", json={"query": "{ viewer { nope } }"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


async def test_a_mutation_over_get_is_405_with_allow(api: Api) -> None:
    response = await api.http.get("/graphql", params={"query": "mutation { logOut }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    query = await api.http.get("/graphql", params={"query": "{ viewer { id } }"})
    assert query.status_code == 200
