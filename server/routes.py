"""Small routes beside GraphQL: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# Each dependency's status: "ok" or the error it gave.
ReadinessCheck = Callable[[Request], Awaitable[dict[str, str]]]


def health_routes(check: ReadinessCheck) -> list[Route]:
    """`/healthz` answers while the process runs; `/readyz` asks every dependency."""

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        status = await check(request)
        ready = all(value == "ok" for value in status.values())
        body = {"status": "ok" if ready else "unavailable", **status}
        return JSONResponse(body, status_code=200 if ready else 503)

    return [Route("/healthz", healthz), Route("/readyz", readyz)]


def metrics_route(registry: CollectorRegistry, workers_dir: Path | None = None) -> Route:
    """This process's metrics; with several workers (server/workers.py), all of theirs added up,
    whichever worker answers."""

    def collect() -> bytes:
        if workers_dir is None:
            return generate_latest(registry)
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined, path=str(workers_dir))  # type: ignore[no-untyped-call]
        return generate_latest(combined)

    async def metrics(request: Request) -> Response:
        return Response(collect(), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics)
