"""Hypothesis over what arrives from outside: JSON bodies, variables and WebSocket frames, in
process on both backends. No answer is a 5xx, every answer is JSON with coded errors and none is
INTERNAL_SERVER_ERROR, every socket closes with a protocol code, and the log has no traceback."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.asgi_websocket import websocket_session
from tests.harness import ServerFactory

pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("TRANSPORT_FUZZ_EXAMPLES", "800"))
T = TypeVar("T")

QUERIES = [
    "{ viewer { id username } }",
    "query Feed($f: Int, $a: String) { feed(first: $f, after: $a) { edges { cursor node { id } } } }",
    "query U($u: String!) { user(username: $u) { id displayName stories { id } } }",
    "query N($id: ID!) { node(id: $id) { id } }",
    "mutation L($i: LogInInput!) { logIn(input: $i) { token } }",
    "mutation P($i: UpdateProfileInput!) { updateProfile(input: $i) { displayName bio } }",
    "mutation M($i: SendMessageInput!) { sendMessage(input: $i) { seq } }",
    "mutation S($ids: [ID!]!) { markStoriesSeen(ids: $ids) { id } }",
    "subscription E($c: ID, $s: Int) { conversationEvents(conversationId: $c, afterSeq: $s) { __typename } }",
    "query A { viewer { id } } query B { viewer { id } }",
    "{ viewer { ... on Post { id } } }",
    "{",
]
# Codes a socket may close with: the protocol's, normal closure, and token revocation.
CLOSE_CODES = {None, 1000, 4400, 4401, 4403, 4408, 4409, 4429}

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
names = st.sampled_from(["f", "a", "u", "id", "i", "ids", "c", "s", "username", "password", "displayName"])
variables = st.dictionaries(names, json_values, max_size=4) | json_values
persisted = st.fixed_dictionaries(
    {
        "persistedQuery": st.fixed_dictionaries(
            {"version": st.integers(0, 2), "sha256Hash": st.text(max_size=64)}
        )
    }
)
operations = st.fixed_dictionaries(
    {},
    optional={
        "query": st.sampled_from(QUERIES) | st.text(max_size=40) | json_values,
        "variables": variables,
        "operationName": st.sampled_from(["A", "B", "Feed", ""]) | json_values,
        "extensions": persisted | json_values,
        "documentId": st.text(max_size=10) | json_values,
    },
)
bodies = st.one_of(
    operations.map(json.dumps),
    st.lists(operations, max_size=12).map(json.dumps),
    json_values.map(json.dumps),
    st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")),
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "", "multipart/form-data"]
)
frames = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["subscribe", "complete", "ping", "pong", "connection_init", "next"])},
        optional={"id": st.text(max_size=4) | json_values, "payload": operations | json_values},
    ).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=30),
    st.binary(max_size=30),
)


def run_in(loop: asyncio.AbstractEventLoop) -> Callable[[Coroutine[Any, Any, T]], T]:
    """Hypothesis is synchronous: it runs in a thread and hands each request to the app's loop."""
    return lambda coro: asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)


def check_response(sent: object, status: int, content_type: str, text: str) -> None:
    assert status < 500, (sent, text)
    assert content_type.startswith(("application/json", "application/graphql-response+json")), (sent, text)
    body = json.loads(text)
    results = body if isinstance(body, list) else [body]
    for result in results:
        for error in result.get("errors") or []:
            code = error.get("extensions", {}).get("code")
            assert code and code != "INTERNAL_SERVER_ERROR", (sent, error)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.exc_info]


async def fuzz(caplog: pytest.LogCaptureFixture, test: Callable[[], None]) -> None:
    with caplog.at_level(logging.WARNING):
        await asyncio.to_thread(test)
    assert tracebacks(caplog) == []


async def test_http_bodies(asgi: ServerFactory, caplog: pytest.LogCaptureFixture) -> None:
    async with asgi() as api:
        token = (await api.sign_up()).token
        run = run_in(asyncio.get_running_loop())

        @settings(
            max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(body=bodies, content_type=content_types, signed_in=st.booleans(), get=st.booleans())
        def request(body: str, content_type: str, signed_in: bool, get: bool) -> None:
            headers = {"content-type": content_type, "accept": "application/graphql-response+json"}
            if signed_in:
                headers["authorization"] = f"Bearer {token}"
            if get:
                call = api.http.get("/graphql", params={"query": body, "variables": body}, headers=headers)
            else:
                call = api.http.post(
                    "/graphql", content=body.encode("utf-8", "surrogatepass"), headers=headers
                )
            response = run(call)
            check_response(
                (body, get), response.status_code, response.headers.get("content-type", ""), response.text
            )

        await fuzz(caplog, request)
        assert await api.gql("{ viewer { id } }") == {"viewer": None}


async def test_variables_of_real_operations(asgi: ServerFactory, caplog: pytest.LogCaptureFixture) -> None:
    async with asgi() as api:
        token = (await api.sign_up()).token
        run = run_in(asyncio.get_running_loop())

        @settings(
            max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(query=st.sampled_from(QUERIES[:8]), values=variables, signed_in=st.booleans())
        def request(query: str, values: Any, signed_in: bool) -> None:
            headers = {"content-type": "application/json"}
            if signed_in:
                headers["authorization"] = f"Bearer {token}"
            # json.dumps writes NaN and Infinity, as some clients do; the server must cope.
            body = json.dumps({"query": query, "variables": values})
            response = run(api.http.post("/graphql", content=body, headers=headers))
            check_response(
                (query, values), response.status_code, response.headers.get("content-type", ""), response.text
            )

        await fuzz(caplog, request)


async def test_websocket_frames(asgi: ServerFactory, caplog: pytest.LogCaptureFixture) -> None:
    async with asgi() as api:
        token = (await api.sign_up()).token
        run = run_in(asyncio.get_running_loop())
        init = [
            json.dumps({"type": "connection_init"}),
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}),
        ]

        @settings(
            max_examples=EXAMPLES // 2, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(start=st.sampled_from([[], init[:1], init[1:]]), sent=st.lists(frames, max_size=4))
        def session(start: list[str], sent: list[str | bytes]) -> None:
            result = run(websocket_session(api.app, [*start, *sent]))
            assert result.close_code in CLOSE_CODES, result.sent
            for message in result.messages:
                payload = message.get("payload")
                errors = payload if message.get("type") == "error" else (payload or {}).get("errors") or []
                for error in errors if isinstance(errors, list) else []:
                    code = error.get("extensions", {}).get("code")
                    assert code and code != "INTERNAL_SERVER_ERROR", message

        await fuzz(caplog, session)
        assert await api.gql("{ viewer { id } }") == {"viewer": None}


async def test_the_websocket_driver_sees_protocol_closes(asgi: ServerFactory) -> None:
    async with asgi() as api:
        refused = await websocket_session(api.app, ["[]"])
        accepted = await websocket_session(api.app, [json.dumps({"type": "connection_init"})])
    assert refused.close_code == 4400
    assert accepted.close_code is None and [m["type"] for m in accepted.messages] == [
        "connection_ack",
        "pong",
    ]
