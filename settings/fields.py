"""Every setting with its default, and what follows from them (the effective URLs, modes, limits)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from settings.urls import asyncpg_url

# What common clients and tracing libraries send: Apollo's client awareness pair, W3C trace
# context and baggage, Sentry's trace header, our request id.
DEFAULT_CORS_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "apollographql-client-name",
    "apollographql-client-version",
    "traceparent",
    "tracestate",
    "baggage",
    "sentry-trace",
    "X-Request-ID",
)
PERSISTED_QUERY_MODES = ("on", "off")
TRUSTED_DOCUMENT_MODES = ("optional", "required")


@dataclass(frozen=True)
class SettingsFields:
    """The fields of `Settings` (settings/environment.py reads them, settings/validation.py checks them)."""

    env: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    database_url: str | None = None
    # Read replicas of DATABASE_URL (streaming replication); reads of HTTP queries go there.
    database_replica_urls: tuple[str, ...] = ()
    replica_max_lag_seconds: float = 5.0
    replica_check_interval_seconds: float = 1.0
    redis_url: str | None = None
    # Worker processes `ephemera serve` starts on one port (WEB_CONCURRENCY, or --workers).
    web_concurrency: int = 1
    # Set by the worker supervisor (server/workers.py), not the environment: where every worker
    # of this host writes its metrics, so that /metrics adds them up.
    metrics_dir: Path | None = None
    # /metrics: on a listener of its own (METRICS_HOST:METRICS_PORT), and/or on the public port
    # behind `Authorization: Bearer METRICS_TOKEN`; production serves it nowhere else.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    metrics_token: str | None = None
    secret_key: str | None = None
    allowed_origins: tuple[str, ...] = ()
    cors_allowed_headers: tuple[str, ...] = DEFAULT_CORS_HEADERS
    cors_max_age_seconds: int = 7200
    persisted_queries: str = "on"
    persisted_queries_cache_size: int = 1000
    persisted_queries_ttl_seconds: int = 7 * 86_400
    persisted_queries_max_age_seconds: int = 60
    persisted_queries_max_bytes: int = 64 * 1024
    persisted_queries_cache_bytes: int = 8 * 1024 * 1024
    persisted_queries_registrations_per_minute: int = 60
    trusted_documents: str = "optional"
    trusted_documents_manifest: Path | None = None
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "ephemera"
    public_base_url: str | None = None
    story_ttl_seconds: int = 86_400
    story_media_retention_seconds: int = 3_600
    story_sweep_interval_seconds: int = 60
    # Safety: how long a report's evidence (and the media it holds) outlives its subject.
    report_retention_seconds: int = 7 * 86_400
    reports_per_hour: int = 30
    evidence_url_seconds: int = 300
    token_ttl_seconds: int = 30 * 86_400
    login_attempts_per_window: int = 10
    login_window_seconds: int = 300
    signups_per_window: int = 20
    signup_window_seconds: int = 300
    # Mail (email confirmation, password reset): SMTP, or .eml files under DATA_DIR/mail without it.
    smtp_url: str | None = None
    mail_from: str = "Ephemera <no-reply@localhost>"
    # Where links in mail point (the app's pages that call verifyEmail / resetPassword).
    account_links_base_url: str | None = None
    password_resets_per_window: int = 5
    password_reset_window_seconds: int = 3600
    username_reuse_days: int = 30
    data_export_ttl_seconds: int = 2 * 86_400
    node_id: int | None = None
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    media_public_base_url: str | None = None
    media_upload_expires_seconds: int = 900
    media_url_expires_seconds: int = 3600
    media_abandoned_after_seconds: int = 86_400
    media_max_image_bytes: int = 20 * 1024 * 1024
    media_max_video_bytes: int = 100 * 1024 * 1024
    media_max_video_seconds: float = 60.0
    media_workers: int = 2
    media_process_timeout_seconds: float = 30.0
    # The address space (RLIMIT_AS) of each media worker, in MiB; 0: no limit.
    media_worker_memory_mb: int = 2048
    cleanup_interval_seconds: int = 300
    # An outbox row that failed this many runs (a minute apart) is set aside as a dead letter.
    outbox_max_attempts: int = 60
    subscription_queue_size: int = 256
    graphiql: bool | None = None
    # Planned queries run on the compiled executor (execution/); off: every operation on strawberry.
    compiled_execution: bool = True
    # Every compiled request also runs on strawberry and the two must agree (the test suite).
    execution_differential: bool = False
    max_query_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_batch_operations: int = 10
    max_body_bytes: int = 256 * 1024
    database_pool_size: int = 20
    token_cache_seconds: int = 60
    max_query_cost: int = 5000
    # All the operations of one HTTP request (a batch) together; unset: twice MAX_QUERY_COST.
    max_request_cost: int | None = None
    mutations_per_minute_per_user: int = 120
    mutations_per_minute_per_address: int = 600
    max_subscriptions_per_connection: int = 20
    ws_init_timeout_seconds: int = 10
    ws_max_message_bytes: int = 64 * 1024
    ws_keepalive_seconds: int = 15
    # How often each process checks the tokens of its open sockets in the database: the bound on how
    # long a revoked token's socket stays open when the announcement cannot reach it.
    ws_token_recheck_seconds: int = 60
    typing_ttl_seconds: float = 5.0
    message_edit_window_seconds: int = 900
    # Hybrid feed (with Redis): authors below this many followers are pushed, larger ones pulled.
    fanout_threshold: int = 10_000
    feed_cache_size: int = 800
    feed_inactive_days: int = 30
    fanout_interval_seconds: float = 1.0
    # Ranked feed: candidates are the feed's posts of the last window hours (at most this many);
    # a first page fixes their order for the snapshot's lifetime; score weights (docs/feed.md).
    feed_ranked_window_hours: int = 72
    feed_ranked_candidates: int = 500
    feed_ranked_snapshot_seconds: int = 1800
    feed_ranked_first_pages_per_minute: int = 20
    feed_ranked_weight_recency: float = 2.0
    feed_ranked_weight_engagement: float = 1.0
    feed_ranked_weight_relationship: float = 1.0
    feed_ranked_weight_content: float = 0.5
    migrate_on_start: bool | None = None
    # Lower argon2 cost is for tests only; production keeps the library defaults.
    password_time_cost: int = 3
    password_memory_kib: int = 65_536
    # Log lines: JSON in production, plain text elsewhere unless LOG_FORMAT says otherwise.
    log_format: str | None = None
    log_level: str = "info"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def request_cost_limit(self) -> int:
        """What one HTTP request's operations may cost together: MAX_REQUEST_COST, or two full ones."""
        return self.max_request_cost or 2 * self.max_query_cost

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return asyncpg_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'ephemera.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def effective_replica_urls(self) -> tuple[str, ...]:
        return tuple(asyncpg_url(url) for url in self.database_replica_urls)

    @property
    def redis_cluster(self) -> bool:
        """REDIS_URL names a Redis Cluster (`redis+cluster://`): keys and channels spread by slot."""
        return bool(self.redis_url) and urlsplit(self.redis_url or "").scheme.endswith("+cluster")

    @property
    def should_migrate_on_start(self) -> bool:
        if self.migrate_on_start is not None:
            return self.migrate_on_start
        return self.database_url is None

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def browser_origins(self) -> tuple[str, ...]:
        """Origins browsers may call from (CORS and WebSockets): any in development, only the
        listed ones in production."""
        return self.allowed_origins or (() if self.is_production else ("*",))

    @property
    def json_logs(self) -> bool:
        return (self.log_format or ("json" if self.is_production else "text")) == "json"

    @property
    def debug(self) -> bool:
        """LOG_LEVEL=debug: debug lines, and the traceback behind a start-up error."""
        return self.log_level == "debug"

    @property
    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.host}:{self.port}"

    @property
    def links_base_url(self) -> str:
        return (self.account_links_base_url or self.base_url).rstrip("/")
