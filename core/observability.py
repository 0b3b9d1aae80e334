"""Structured logs carrying the request id, and the Prometheus metrics every layer reports to."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

T = TypeVar("T")
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
# Set while the differential mode (EXECUTION_DIFFERENTIAL) answers a request a second time to
# compare the two answers: that run is not the request's, so metrics, spans and the tests'
# statement counts leave it out.
comparing: ContextVar[bool] = ContextVar("execution_comparing", default=False)

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "ephemera_graphql_requests_total", "GraphQL operations", ["operation", "type"], registry=REGISTRY
)
LATENCY = Histogram(
    "ephemera_graphql_request_seconds",
    "GraphQL operation latency",
    ["operation", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
OPERATIONS = Counter(
    "ephemera_graphql_operations_total",
    "GraphQL operations by the executor that answered them (compiled or strawberry)",
    ["executor"],
    registry=REGISTRY,
)
ERRORS = Counter("ephemera_graphql_errors_total", "GraphQL errors by code", ["code"], registry=REGISTRY)
# Gauges say how several workers of one host add up when /metrics reads them all
# (server/metrics.py): live sums of what each worker holds, or the most recent value.
WEBSOCKETS = Gauge(
    "ephemera_websockets_open",
    "Open GraphQL WebSocket connections",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS = Gauge(
    "ephemera_subscriptions_active",
    "Active GraphQL subscriptions",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
DELIVERY_LAG = Histogram(
    "ephemera_pubsub_delivery_seconds",
    "From publish to hand-over to a subscriber",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
    registry=REGISTRY,
)
JOB_RUNS = Counter("ephemera_job_runs_total", "Periodic job runs", ["job", "outcome"], registry=REGISTRY)
JOB_ITEMS = Counter(
    "ephemera_job_items_total", "Items processed by periodic jobs", ["job"], registry=REGISTRY
)
READ_ROUTES = Counter(
    "ephemera_read_routes_total",
    "HTTP requests by where their reads went (replica, or primary: no replica had the reader's writes)",
    ["target"],
    registry=REGISTRY,
)
REPLICA_LAG = Gauge(
    "ephemera_replica_lag_seconds",
    "How far each read replica is behind the primary (+Inf: it does not answer)",
    ["replica"],
    registry=REGISTRY,
    multiprocess_mode="livemax",
)
DEPENDENCY_UP = Gauge(
    "ephemera_dependency_up",
    "Whether each dependency answered its last readiness check (1) or not (0): /readyz and each scrape",
    ["dependency"],
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)
WRITE_CONFLICTS = Counter(
    "ephemera_write_retryable_aborts_total",
    "Writes PostgreSQL rolled back to break a deadlock or a serialization failure (answered CONFLICT)",
    ["reason"],
    registry=REGISTRY,
)
OUTBOX_DEAD = Counter(
    "ephemera_outbox_dead_letters_total",
    "Outbox rows set aside after OUTBOX_MAX_ATTEMPTS failed runs, by kind (see the log for each)",
    ["kind"],
    registry=REGISTRY,
)
MEDIA_RECONCILED = Gauge(
    "ephemera_media_reconciliation",
    "Counts of the last `ephemera reconcile-media` run, by what was counted",
    ["count"],
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the request being served."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Plain lines for a person at a terminal: time, level, logger, message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")


class HideQueryStrings(logging.Filter):
    """Drops the query string from the paths uvicorn logs: a `?token=` or a GET query's
    variables have no place in access logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("uvicorn") and isinstance(record.args, tuple):
            record.args = tuple(
                arg.split("?", 1)[0] if isinstance(arg, str) and arg.startswith("/") else arg
                for arg in record.args
            )
        return True


def configure_logging(level: int = logging.INFO, *, json_lines: bool = True) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(HideQueryStrings())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


async def tracked(events: AsyncIterator[T]) -> AsyncIterator[T]:
    """Counts a subscription in `ephemera_subscriptions_active` for as long as it streams."""
    SUBSCRIPTIONS.inc()
    try:
        async for event in events:
            yield event
    finally:
        SUBSCRIPTIONS.dec()


MODERATION_ACTIONS = Counter(
    "ephemera_moderation_actions_total",
    "Moderator actions written to the audit log, by action (DISMISS, REMOVE_CONTENT, SUSPEND_ACCOUNT)",
    ["action"],
    registry=REGISTRY,
)
REPORTS_MADE = Counter(
    "ephemera_reports_total", "Reports made, by the reported object's type", ["kind"], registry=REGISTRY
)
