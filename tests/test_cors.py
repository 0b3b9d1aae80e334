"""Browsers' preflights: the headers common clients and tracing libraries send are allowed, and
the answer is cached (Access-Control-Max-Age)."""

from __future__ import annotations

from settings import DEFAULT_CORS_HEADERS
from tests.harness import ServerFactory

ORIGIN = "https://app.example"
SENT = (
    "authorization, content-type, apollographql-client-name, apollographql-client-version, "
    "traceparent, tracestate, baggage, sentry-trace, x-request-id"
)


async def test_a_preflight_with_client_and_tracing_headers_is_allowed_and_cached(asgi: ServerFactory) -> None:
    async with asgi(env="production", allowed_origins=(ORIGIN,)) as api:
        preflight = await api.http.options(
            "/graphql",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": SENT,
            },
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    allowed = {
        header.strip().lower() for header in preflight.headers["access-control-allow-headers"].split(",")
    }
    assert {header.strip() for header in SENT.split(",")} <= allowed
    assert {header.lower() for header in DEFAULT_CORS_HEADERS} <= allowed
    assert preflight.headers["access-control-max-age"] == "7200"


async def test_allowed_headers_and_max_age_are_settings(asgi: ServerFactory) -> None:
    async with asgi(
        allowed_origins=(ORIGIN,), cors_allowed_headers=("X-Custom",), cors_max_age_seconds=60
    ) as api:
        preflight = await api.http.options(
            "/graphql",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "traceparent",
            },
        )
    assert preflight.status_code == 400  # traceparent is no longer allowed
    assert preflight.headers["access-control-max-age"] == "60"
