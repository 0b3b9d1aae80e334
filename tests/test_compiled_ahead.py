"""Planned queries ahead of strawberry's pipeline (server/ahead.py): a query text answered once runs
its plan directly, touching no extension, with the pipeline's answer; every limit still refuses.

The suite runs with EXECUTION_DIFFERENTIAL: every answer given ahead of the pipeline is also given
by the whole pipeline (strawberry, graphql-core) and the two responses must be equal, `extensions`
included (tests/conftest.py fails the test on any difference)."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from strawberry.extensions import SchemaExtension

from core.observability import comparing
from schema import build_schema
from tests.harness import Api, ServerFactory, test_settings
from tests.test_compiled_execution import COMPILED, FEED, FOLLOW, STRAWBERRY, a_feed, counted
from tests.test_tracing import SIGN_UP, descends_from, traced_client

FEED_REQUESTS = 'ephemera_graphql_requests_total{operation="Feed",type="query"}'
FEED_SECONDS = 'ephemera_graphql_request_seconds_count{operation="Feed",type="query"}'


class Touched(SchemaExtension):
    """Each operation strawberry's pipeline runs: True when it is the differential mode's second run."""

    calls: list[bool] = []

    def on_operation(self) -> Iterator[None]:
        Touched.calls.append(comparing.get())
        yield

    def on_execute(self) -> Iterator[None]:
        Touched.calls.append(comparing.get())
        yield


@pytest.fixture
def touched(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The pipeline's extension hooks, as they run, for the schema `api` serves."""
    schema = build_schema(api.services.settings)  # the app's: one schema per set of limits
    monkeypatch.setattr(schema, "extensions", [*schema.extensions, Touched])
    monkeypatch.setattr(Touched, "calls", [])
    return Touched.calls


def pipeline_runs(calls: list[bool]) -> int:
    """Operations the request itself ran through the pipeline (not the differential's comparison)."""
    return calls.count(False)


def _unsigned(data: Any) -> Any:
    """The answer with each URL's signature left out: two requests sign at their own second."""
    return json.loads(re.sub(r'\?[^"]*"', '"', json.dumps(data)))


async def test_a_query_answered_once_runs_ahead_touching_no_extension(api: Api, touched: list[bool]) -> None:
    me, _ = await a_feed(api)
    touched.clear()
    first, executors = await counted(api, FEED, {"first": 2}, me)
    assert executors == (1, 0)
    assert pipeline_runs(touched) == 2  # on_operation and on_execute: the pipeline answered it
    touched.clear()
    requests, seconds = await api.metric(FEED_REQUESTS), await api.metric(FEED_SECONDS)

    with api.count_statements() as statements:
        body, executors = await counted(api, FEED, {"first": 2}, me)
    assert executors == (1, 0)
    assert pipeline_runs(touched) == 0, touched  # no extension ran for the request
    # The whole pipeline answered it a second time, to compare (the suite's differential mode).
    assert touched == [True, True]
    assert _unsigned(body["data"]) == _unsigned(first["data"])
    assert body["extensions"] == first["extensions"] == {"cost": {"requested": 275, "limit": 5000}}
    assert (await api.metric(FEED_REQUESTS), await api.metric(FEED_SECONDS)) == (requests + 1, seconds + 1)

    # The same document as a new text goes through the pipeline (and its compiled executor):
    # the same statements.
    with api.count_statements() as through_pipeline:
        again, executors = await counted(api, FEED + " ", {"first": 2}, me)
    assert executors == (1, 0) and pipeline_runs(touched) == 2
    assert again == body
    assert statements == through_pipeline
    touched.clear()

    # Another page of the same text: its variables change, not the path.
    after = body["data"]["feed"]["pageInfo"]["endCursor"]
    body, executors = await counted(api, FEED, {"first": 5, "after": after}, me)
    assert executors == (1, 0)
    assert [e["node"]["caption"] for e in body["data"]["feed"]["edges"]] == ["#tag1 hello", "#tag0 hello"]
    assert pipeline_runs(touched) == 0


@pytest.mark.settings(execution_differential=False)
async def test_without_the_differential_mode_the_pipeline_never_runs(api: Api, touched: list[bool]) -> None:
    me, _ = await a_feed(api)
    await api.post(FEED, {"first": 2}, me.token)
    touched.clear()
    body, executors = await counted(api, FEED, {"first": 3}, me)
    assert executors == (1, 0) and len(body["data"]["feed"]["edges"]) == 3
    assert touched == []


async def test_a_plan_that_fails_ahead_is_answered_by_strawberry_with_its_code(
    api: Api, touched: list[bool]
) -> None:
    me, _ = await a_feed(api)
    await api.post(FEED, {"first": 2}, me.token)
    touched.clear()
    body, executors = await counted(api, FEED, {"first": 2}, None)  # signed out: an error
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["path"] == ["feed"]
    assert executors == (0, 1)  # the plan is not tried a second time inside the pipeline
    assert pipeline_runs(touched) == 2


async def test_mutations_and_introspection_always_take_the_pipeline(api: Api, touched: list[bool]) -> None:
    me, _ = await a_feed(api)
    others = [await api.sign_up() for _ in range(2)]
    touched.clear()
    introspection = "query I { __schema { queryType { name } } }"
    for other in others:
        body, executors = await counted(api, FOLLOW, {"id": other.id}, me)
        assert body["data"]["follow"]["viewerFollowStatus"] == "FOLLOWING"
        assert executors == (0, 1)
        body, executors = await counted(api, introspection, {}, me)
        assert body["data"]["__schema"]["queryType"]["name"] == "Query"
        assert executors == (0, 1)
    assert pipeline_runs(touched) == 8
    subscription = "subscription S { conversationEvents { __typename } }"
    for _ in range(2):
        response = await api.http.post("/graphql", json={"query": subscription})
        assert response.status_code == 400, response.text


async def test_the_cost_of_a_variable_page_is_limited_on_every_request(asgi: ServerFactory) -> None:
    query = "query Feed($first: Int) { feed(first: $first) { edges { node { caption } } } }"
    async with asgi(max_query_cost=50) as api:
        me = await api.sign_up()
        first = await api.post(query, {"first": 2}, me.token)
        assert first["extensions"]["cost"] == {"requested": 7, "limit": 50}
        again = await api.post(query, {"first": 2}, me.token)
        assert again == first
        refused = await api.post(query, {"first": 30}, me.token)
    error = refused["errors"][0]
    assert error["extensions"]["reason"] == "QUERY_TOO_COSTLY" and error["extensions"]["cost"] == 91
    assert refused["data"] is None


async def test_a_batch_spends_one_budget_ahead_of_the_pipeline_too(asgi: ServerFactory) -> None:
    query = "query Feed($first: Int) { feed(first: $first) { edges { node { caption } } } }"
    async with asgi(max_query_cost=100, max_request_cost=100) as api:
        me = await api.sign_up()
        headers = {"Authorization": f"Bearer {me.token}"}
        assert "errors" not in await api.post(query, {"first": 10}, me.token)  # cost 31, answered once
        batch = [{"query": query, "variables": {"first": 10}}] * 4
        response = await api.http.post("/graphql", json=batch, headers=headers)
    answers = response.json()
    assert [("errors" in answer) for answer in answers] == [False, False, False, True]
    assert answers[3]["errors"][0]["extensions"]["reason"] == "REQUEST_TOO_COSTLY"
    assert answers[3]["errors"][0]["extensions"]["costLeft"] == 7


async def test_text_limits_and_variables_are_still_checked(asgi: ServerFactory) -> None:
    query = (
        "query Feed($first: Int, $after: String) { feed(first: $first, after: $after) { edges { cursor } } }"
    )
    deep = (
        "query D { feed { edges { node { author { posts { edges { node { author { username } } } } } } } } }"
    )
    edges = " ".join(f"e{n}: edges {{ cursor }}" for n in range(3))
    aliased = f"query A {{ feed(first: 1) {{ {edges} }} }}"
    async with asgi(max_query_depth=4, max_aliases=2) as api:
        me = await api.sign_up()
        assert "errors" not in await api.post(query, {"first": 1}, me.token)
        codes = {
            "deep": await api.post(deep, {}, me.token),
            "aliased": await api.post(aliased, {}, me.token),
            "unstorable": await api.post(query, {"first": 1, "after": "a\u0000b"}, me.token),
            "not an int": await api.post(query, {"first": "many"}, me.token),
        }
        assert "errors" not in await api.post(query, {"first": 1}, me.token)
    reasons = {name: body["errors"][0]["extensions"].get("reason") for name, body in codes.items()}
    assert reasons["deep"] == "QUERY_TOO_DEEP"
    assert {body["errors"][0]["extensions"]["code"] for body in codes.values()} == {"BAD_USER_INPUT"}
    assert "aliases" in codes["aliased"]["errors"][0]["message"]
    assert "NUL" in codes["unstorable"]["errors"][0]["message"]


USER = "query U($name: String!) { user(username: $name) { username postCount } }"
USER_HASH = hashlib.sha256(USER.encode()).hexdigest()


async def test_persisted_queries_run_ahead_and_stay_cacheable(asgi: ServerFactory) -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": USER_HASH}}
    async with asgi() as api:
        alice = await api.sign_up()
        variables = json.dumps({"name": alice.username})
        params = {"extensions": json.dumps(extensions), "variables": variables, "operationName": "U"}
        registered = await api.http.post(
            "/graphql", json={"query": USER, "variables": {"name": alice.username}, "extensions": extensions}
        )
        before = await api.metric(COMPILED), await api.metric(STRAWBERRY)
        answers: list[Any] = [await api.http.get("/graphql", params=params) for _ in range(2)]
        after = await api.metric(COMPILED), await api.metric(STRAWBERRY)
    assert registered.json()["data"] == {"user": {"username": alice.username, "postCount": 0}}
    for answer in answers:
        assert answer.json() == registered.json()
        assert answer.headers["cache-control"] == "public, max-age=60"
    assert (after[0] - before[0], after[1] - before[1]) == (2, 0)


async def compiled_count(client: httpx.AsyncClient) -> float:
    lines = (await client.get("/metrics")).text.splitlines()
    return next((float(line.split()[-1]) for line in lines if line.startswith(COMPILED + " ")), 0.0)


async def test_one_span_per_operation_ahead_of_the_pipeline_or_after_it(
    database_url: str, app_redis_url: str | None, tmp_path: Path
) -> None:
    settings = test_settings(database_url, app_redis_url, tmp_path / "data")
    async with traced_client(settings) as (client, exporter):
        signed_up = await client.post("/graphql", json={"query": SIGN_UP})
        token = signed_up.json()["data"]["signUp"]["token"]
        compiled = [await compiled_count(client)]
        for authorization in (f"Bearer {token}", f"Bearer {token}", None):
            headers = {"Authorization": authorization} if authorization else {}
            await client.post("/graphql", json={"query": FEED, "variables": {"first": 2}}, headers=headers)
            compiled.append(await compiled_count(client))
    assert [b - a for a, b in itertools.pairwise(compiled)] == [1, 1, 0]
    spans = exporter.get_finished_spans()
    by_id = {span.context.span_id: span for span in spans}
    feeds = [span for span in spans if span.name == "query Feed"]
    # Pipeline, ahead, ahead then the pipeline (signed out: an error): one span each.
    assert [(span.attributes or {}).get("graphql.error.codes") for span in feeds] == [
        None,
        None,
        ("UNAUTHENTICATED",),
    ]
    database = [
        span for span in spans if (span.attributes or {}).get("db.system") in ("sqlite", "postgresql")
    ]
    # The statements of the answered pages nest under their spans (ahead of the pipeline too).
    assert all(any(descends_from(span, feed, by_id) for span in database) for feed in feeds[:2])
