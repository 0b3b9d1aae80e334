"""What an operator sees: /metrics, /readyz, and JSON log lines carrying the request id."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from core.observability import JsonFormatter, request_id_var
from tests.harness import Api, running_server, test_settings
from tests.subscriptions.test_pubsub_redis import RedisProcess, redis_process  # noqa: F401

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

BIO = "mutation($bio: String!) { updateProfile(input: {bio: $bio}) { bio } }"
LOG_IN = "mutation($u: String!, $p: String!) { logIn(input: {username: $u, password: $p}) { token } }"
SEND = """
mutation($c: ID!, $b: String!) { sendMessage(input: {conversationId: $c, body: $b, clientId: $b}) { id } }
"""


async def test_metrics_count_operations_and_error_codes(api: Api) -> None:
    probes = 'ephemera_graphql_requests_total{operation="ViewerProbe",type="query"}'
    refused = 'ephemera_graphql_errors_total{code="UNAUTHENTICATED"}'
    before = [await api.metric(probes), await api.metric(refused)]
    await api.post("query ViewerProbe { viewer { id } }")
    await api.post("query ViewerProbe { viewer { id } }")
    await api.post("mutation LogOutProbe { logOut }")
    assert [await api.metric(probes), await api.metric(refused)] == [before[0] + 2, before[1] + 1]
    text = (await api.http.get("/metrics")).text
    assert "ephemera_graphql_request_seconds_bucket" in text
    assert "ephemera_websockets_open" in text


async def test_readyz_reports_each_dependency(api: Api, backend: str) -> None:
    body = (await api.http.get("/readyz")).json()
    assert body["status"] == "ok" and body["database"] == "ok"
    if api.services.redis is not None:
        assert body["redis"] == "ok"
    assert await api.metric('ephemera_dependency_up{dependency="database"}') == 1


async def test_without_redis_the_server_is_ready_and_says_it_is_degraded(
    database_url: str,
    redis_process: RedisProcess,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Queries, mutations and log-in go on without Redis: /readyz stays 200 (a load balancer keeps
    the host), lists Redis as degraded, and /metrics says the same."""
    redis_process.start()
    async with running_server(test_settings(database_url, redis_process.url, tmp_path / "data")) as api:
        alice = await api.sign_up()
        redis_process.stop()
        ready = await api.http.get("/readyz")
        assert (ready.status_code, ready.json()) == (
            200,
            {"status": "degraded", "database": "ok", "redis": "unavailable", "degraded": ["redis"]},
        )
        assert await api.metric('ephemera_dependency_up{dependency="redis"}') == 0
        assert await api.metric('ephemera_dependency_up{dependency="database"}') == 1
        assert (await api.gql("{ viewer { username } }", token=alice.token))["viewer"] is not None
        bio = await api.gql(BIO, {"bio": "no Redis"}, alice.token)
        assert bio == {"updateProfile": {"bio": "no Redis"}}
        logged_in = await api.gql(LOG_IN, {"u": alice.username, "p": alice.password})
        assert logged_in["logIn"]["token"]
        redis_process.start()
        assert (await api.http.get("/readyz")).json()["status"] == "ok"
        assert await api.metric('ephemera_dependency_up{dependency="redis"}') == 1


async def test_without_the_database_readyz_is_503_and_names_it_not_the_error(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connect call failed ('10.0.0.5', 5432)")

    monkeypatch.setattr(api.services.db, "ping", refused)
    ready = await api.http.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable" and body["database"] == "unavailable"
    assert body["unavailable"] == ["database"]
    assert "Error" not in ready.text and "10.0.0.5" not in ready.text
    assert await api.metric('ephemera_dependency_up{dependency="database"}') == 0


def test_log_lines_are_json_with_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    token = request_id_var.set("req-123")
    try:
        record = logging.LogRecord("ephemera", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello world"
    assert line["request_id"] == "req-123"
    assert line["level"] == "warning"


async def test_metrics_follow_subscriptions_and_delivery_lag(api: Api) -> None:
    from tests.ws_client import graphql_socket

    alice = await api.sign_up()
    active, sockets = "ephemera_subscriptions_active", "ephemera_websockets_open"
    before = [await api.metric(active), await api.metric(sockets)]
    delivered = await api.metric("ephemera_pubsub_delivery_seconds_count")
    async with graphql_socket(api.ws_url, alice.token) as socket:
        op = await socket.subscribe("subscription { conversationEvents { __typename } }")
        await api.subscribed(alice)
        bob = await api.sign_up()
        started = await api.gql(
            "mutation($ids: [ID!]!) { startConversation(input: {memberIds: $ids}) { id } }",
            {"ids": [alice.id]},
            bob.token,
        )
        cid = started["startConversation"]["id"]
        await api.gql(SEND, {"c": cid, "b": "hi"}, bob.token)
        assert (await socket.next(op))["conversationEvents"]["__typename"] == "MessageAdded"
        assert [await api.metric(active), await api.metric(sockets)] == [before[0] + 1, before[1] + 1]
        await socket.complete(op)
    assert await api.metric("ephemera_pubsub_delivery_seconds_count") >= delivered + 1
