"""Schemathesis in GraphQL mode against the live server: generated queries and mutations for
every operation of the schema, anonymous and signed in. Expected errors (bad input, not found)
are fine; a 5xx or a masked crash (INTERNAL_SERVER_ERROR) is not."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.harness import Api

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))


def crashes(url: str, token: str | None) -> list[str]:
    schema = schemathesis.graphql.from_url(url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    found: list[str] = []
    for result in schema.get_all_operations():
        found.extend(_fuzz(result.ok(), headers))  # type: ignore[union-attr]
    return found


def _fuzz(operation: Any, headers: dict[str, str]) -> list[str]:
    found: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        if response.status_code >= 500:
            found.append(f"{operation.label}: HTTP {response.status_code} for {case.body}")
            return
        body = response.json()
        for error in body.get("errors") or [] if isinstance(body, dict) else []:
            if (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR":
                found.append(f"{operation.label}: crash for {case.body}")

    run()
    return found


async def test_generated_operations_never_crash_the_server(api: Api) -> None:
    alice = await api.sign_up()
    url = f"{api.base_url}/graphql"
    # schemathesis is synchronous: it runs in a thread so this loop keeps serving it.
    for token in (None, alice.token):
        assert await asyncio.to_thread(crashes, url, token) == []
