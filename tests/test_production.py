"""Production mode and WebSocket limits: what an operator exposes to the internet."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

from settings import Settings, SettingsError
from tests.harness import ServerFactory, free_port, running_server, test_settings

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

PROTOCOL = [Subprotocol("graphql-transport-ws")]


@pytest.fixture
def production(database_url: str, app_redis_url: str | None, tmp_path: Path) -> Settings:
    return replace(
        test_settings(database_url, app_redis_url, tmp_path / "data"),
        env="production",
        allowed_origins=("https://app.example",),
    )


async def test_production_hides_the_schema_and_masks_errors(production: Settings) -> None:
    async with running_server(production) as api:
        introspection = await api.post("{ __schema { types { name } } }")
        assert introspection.get("errors") and not introspection.get("data")
        typo = await api.post("{ viewr { id } }")
        assert "Did you mean" not in json.dumps(typo)
        page = await api.http.get("/graphql", headers={"Accept": "text/html"})
        assert "graphiql" not in page.text.lower()


async def test_production_serves_metrics_on_their_own_loopback_port_only(production: Settings) -> None:
    port = free_port()
    async with running_server(replace(production, metrics_port=port)) as api:
        await api.post("query MetricsProbe { viewer { id } }")
        assert (await api.http.get("/metrics")).status_code == 404
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as scraper:
            scraped = await scraper.get("/metrics")
            assert scraped.status_code == 200
            assert 'ephemera_graphql_requests_total{operation="MetricsProbe",type="query"}' in scraped.text
            assert 'ephemera_dependency_up{dependency="database"} 1.0' in scraped.text
            assert (await scraper.get("/graphql")).status_code == 404


async def test_production_serves_metrics_behind_a_bearer_token(production: Settings) -> None:
    token = "metrics-token-for-the-scraper-0123456789"
    async with running_server(replace(production, metrics_token=token)) as api:
        assert (await api.http.get("/metrics")).status_code == 401
        wrong = await api.http.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
        scraped = await api.http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert scraped.status_code == 200 and "ephemera_websockets_open" in scraped.text


def test_production_requires_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings(env="production", data_dir=tmp_path).with_secret()


async def test_cross_origin_websockets_need_an_allowed_origin(production: Settings) -> None:
    async with running_server(production) as api:
        with pytest.raises(Exception, match="403"):
            async with connect(api.ws_url, subprotocols=PROTOCOL, origin=Origin("https://evil.example")):
                pass
        async with connect(api.ws_url, subprotocols=PROTOCOL, origin=Origin("https://app.example")) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"


async def test_a_socket_that_never_inits_is_closed(server: ServerFactory) -> None:
    async with server(ws_init_timeout_seconds=1) as api, connect(api.ws_url, subprotocols=PROTOCOL) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408


async def test_oversized_websocket_messages_close_the_socket(server: ServerFactory) -> None:
    async with server(ws_max_message_bytes=1024) as api, connect(api.ws_url, subprotocols=PROTOCOL) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"pad": "x" * 5000}}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_shutdown_closes_sockets_with_going_away(server: ServerFactory) -> None:
    async with server() as api:
        ws = await connect(api.ws_url, subprotocols=PROTOCOL)
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_subscriptions_per_connection_are_capped(server: ServerFactory) -> None:
    from tests.ws_client import graphql_socket

    async with server(max_subscriptions_per_connection=2) as api:
        alice = await api.sign_up()
        async with graphql_socket(api.ws_url, alice.token) as socket:
            query = "subscription { conversationEvents { __typename } }"
            await socket.subscribe(query)
            await socket.subscribe(query)
            third = await socket.subscribe(query)
            refused = await socket.message(third)
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_the_server_pings_idle_sockets(server: ServerFactory) -> None:
    from tests.ws_client import graphql_socket

    async with server(ws_keepalive_seconds=1) as api, graphql_socket(api.ws_url, None) as socket:
        message = await asyncio.wait_for(socket.other.get(), timeout=5)
    assert message["type"] == "ping"
