"""What an operator sees: /metrics, /readyz, and JSON log lines carrying the request id."""

from __future__ import annotations

import json
import logging

import pytest

from core.observability import JsonFormatter, request_id_var
from tests.harness import Api

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

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
