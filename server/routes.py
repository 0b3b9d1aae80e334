"""Small routes beside GraphQL: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# Each dependency's status, by name: "ok" or "unavailable" (never the error itself).
ReadinessCheck = Callable[[Request], Awaitable[dict[str, str]]]
# Without these the process cannot serve; without any other (Redis) it serves degraded.
REQUIRED = frozenset({"database"})


def readiness(status: dict[str, str]) -> tuple[int, dict[str, object]]:
    """Ready means "can serve": 503 only when a required dependency is down; a degraded one (Redis:
    queries, mutations and log-in go on without it) is listed, with 200."""
    down = sorted(name for name, value in status.items() if value != "ok")
    if any(name in REQUIRED for name in down):
        return 503, {"status": "unavailable", **status, "unavailable": down}
    if down:
        return 200, {"status": "degraded", **status, "degraded": down}
    return 200, {"status": "ok", **status}


def health_routes(check: ReadinessCheck) -> list[Route]:
    """`/healthz` answers while the process runs; `/readyz` asks every dependency."""

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        status_code, body = readiness(await check(request))
        return JSONResponse(body, status_code=status_code)

    return [Route("/healthz", healthz), Route("/readyz", readyz)]


def metrics_collector(registry: CollectorRegistry, workers_dir: Path | None = None) -> Callable[[], bytes]:
    """This process's metrics; with several workers (server/workers.py), all of theirs added up,
    whichever worker answers."""

    def collect() -> bytes:
        if workers_dir is None:
            return generate_latest(registry)
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined, path=str(workers_dir))  # type: ignore[no-untyped-call]
        return generate_latest(combined)

    return collect


def metrics_route(
    collect: Callable[[Request], Awaitable[bytes]], *, public: bool, token: str | None = None
) -> list[Route]:
    """`/metrics` on the public port: open when `public` (development), with `Authorization:
    Bearer <METRICS_TOKEN>` when a token is set, else not there at all (production serves it on
    METRICS_PORT, server/metrics_listener.py)."""
    if not public and token is None:
        return []

    async def metrics(request: Request) -> Response:
        if token is not None:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
                return Response(
                    "Send Authorization: Bearer <METRICS_TOKEN>\n",
                    401,
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        return Response(await collect(request), media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", metrics)]
