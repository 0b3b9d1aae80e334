"""The one place that reads the environment. Everything else receives a `Settings`."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

log = logging.getLogger("ephemera.settings")


class SettingsError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _bool(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


DATABASE_SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres", "sqlite+aiosqlite")
REDIS_SCHEMES = ("redis", "rediss", "redis+cluster", "rediss+cluster")
SMTP_SCHEMES = ("smtp", "smtps")
POSTGRES_SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error")


def _check_userinfo(name: str, url: str | None) -> None:
    """A password with a raw `@` moves the host into the password: say how to write it."""
    authority = urlsplit(url or "").netloc
    if authority.count("@") > 1:
        host = authority.rpartition("@")[2]
        raise SettingsError(
            f"{name}: the password or user name contains '@': percent-encode it as %40 (p@ss becomes "
            f"p%40ss), so that the host reads {host}"
        )


def asyncpg_url(url: str) -> str:
    """Providers hand out `postgres://` and `postgresql://` URLs, often with `?sslmode=`: the
    same database through asyncpg, which calls that parameter `ssl`."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "postgresql+asyncpg"):
        return url
    query = urlencode(
        [
            ("ssl" if key == "sslmode" else key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
    )
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg", query=query))


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
GENERATE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
MIN_SECRET_BYTES = 32
# Values copied from examples rather than generated (the README's `SECRET_KEY=...` among them).
PLACEHOLDER_SECRETS = frozenset(
    {"...", "x", "changeme", "change-me", "secret", "secret_key", "your-secret-key"}
)


def check_secret_key(key: str) -> None:
    """A production SECRET_KEY is at least 32 bytes and not a placeholder or one repeated character."""
    problem = None
    if key.strip().lower() in PLACEHOLDER_SECRETS or len(set(key)) == 1:
        problem = "is a placeholder"
    elif len(key.encode()) < MIN_SECRET_BYTES:
        problem = f"is {len(key.encode())} bytes long, under {MIN_SECRET_BYTES}"
    if problem is not None:
        raise SettingsError(
            f"SECRET_KEY {problem}: set it to one long random value shared by every process, "
            f"e.g. from: {GENERATE_SECRET}"
        )


PERSISTED_QUERY_MODES = ("on", "off")
TRUSTED_DOCUMENT_MODES = ("optional", "required")


@dataclass(frozen=True)
class Settings:
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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            env=env.get("ENV", "development"),
            host=env.get("HOST", "127.0.0.1"),
            port=_int(env, "PORT", 8000),
            data_dir=Path(env.get("DATA_DIR", "data")),
            database_url=env.get("DATABASE_URL") or None,
            database_replica_urls=_list(env, "DATABASE_REPLICA_URLS"),
            replica_max_lag_seconds=_float(env, "REPLICA_MAX_LAG_SECONDS", 5.0),
            replica_check_interval_seconds=_float(env, "REPLICA_CHECK_INTERVAL_SECONDS", 1.0),
            redis_url=env.get("REDIS_URL") or None,
            web_concurrency=_int(env, "WEB_CONCURRENCY", 1),
            metrics_port=_int(env, "METRICS_PORT", 0) or None,
            metrics_host=env.get("METRICS_HOST") or "127.0.0.1",
            metrics_token=env.get("METRICS_TOKEN") or None,
            secret_key=env.get("SECRET_KEY") or None,
            allowed_origins=_list(env, "ALLOWED_ORIGINS"),
            cors_allowed_headers=_list(env, "CORS_ALLOWED_HEADERS") or DEFAULT_CORS_HEADERS,
            cors_max_age_seconds=_int(env, "CORS_MAX_AGE_SECONDS", 7200),
            persisted_queries=env.get("PERSISTED_QUERIES", "on").strip().lower() or "on",
            persisted_queries_cache_size=_int(env, "PERSISTED_QUERIES_CACHE_SIZE", 1000),
            persisted_queries_ttl_seconds=_int(env, "PERSISTED_QUERIES_TTL_SECONDS", 7 * 86_400),
            persisted_queries_max_age_seconds=_int(env, "PERSISTED_QUERIES_MAX_AGE_SECONDS", 60),
            persisted_queries_max_bytes=_int(env, "PERSISTED_QUERIES_MAX_BYTES", 64 * 1024),
            persisted_queries_cache_bytes=_int(env, "PERSISTED_QUERIES_CACHE_BYTES", 8 * 1024 * 1024),
            persisted_queries_registrations_per_minute=_int(
                env, "PERSISTED_QUERIES_REGISTRATIONS_PER_MINUTE", 60
            ),
            trusted_documents=env.get("TRUSTED_DOCUMENTS", "optional").strip().lower() or "optional",
            trusted_documents_manifest=Path(env["TRUSTED_DOCUMENTS_MANIFEST"])
            if env.get("TRUSTED_DOCUMENTS_MANIFEST")
            else None,
            otel_exporter_otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
            otel_service_name=env.get("OTEL_SERVICE_NAME") or "ephemera",
            public_base_url=env.get("PUBLIC_BASE_URL") or None,
            story_ttl_seconds=_int(env, "STORY_TTL_SECONDS", 86_400),
            story_media_retention_seconds=_int(env, "STORY_MEDIA_RETENTION_SECONDS", 3_600),
            story_sweep_interval_seconds=_int(env, "STORY_SWEEP_INTERVAL_SECONDS", 60),
            report_retention_seconds=_int(env, "REPORT_RETENTION_SECONDS", 7 * 86_400),
            reports_per_hour=_int(env, "REPORTS_PER_HOUR", 30),
            evidence_url_seconds=_int(env, "EVIDENCE_URL_SECONDS", 300),
            token_ttl_seconds=_int(env, "TOKEN_TTL_SECONDS", 30 * 86_400),
            login_attempts_per_window=_int(env, "LOGIN_ATTEMPTS_PER_WINDOW", 10),
            login_window_seconds=_int(env, "LOGIN_WINDOW_SECONDS", 300),
            signups_per_window=_int(env, "SIGNUPS_PER_WINDOW", 20),
            signup_window_seconds=_int(env, "SIGNUP_WINDOW_SECONDS", 300),
            smtp_url=env.get("SMTP_URL") or None,
            mail_from=env.get("MAIL_FROM") or "Ephemera <no-reply@localhost>",
            account_links_base_url=env.get("ACCOUNT_LINKS_BASE_URL") or None,
            password_resets_per_window=_int(env, "PASSWORD_RESETS_PER_WINDOW", 5),
            password_reset_window_seconds=_int(env, "PASSWORD_RESET_WINDOW_SECONDS", 3600),
            username_reuse_days=_int(env, "USERNAME_REUSE_DAYS", 30),
            data_export_ttl_seconds=_int(env, "DATA_EXPORT_TTL_SECONDS", 2 * 86_400),
            node_id=_int(env, "NODE_ID", -1) if env.get("NODE_ID") else None,
            s3_bucket=env.get("S3_BUCKET") or None,
            s3_endpoint_url=env.get("S3_ENDPOINT_URL") or None,
            s3_region=env.get("S3_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            media_public_base_url=env.get("MEDIA_PUBLIC_BASE_URL") or None,
            media_upload_expires_seconds=_int(env, "MEDIA_UPLOAD_EXPIRES_SECONDS", 900),
            media_url_expires_seconds=_int(env, "MEDIA_URL_EXPIRES_SECONDS", 3600),
            media_abandoned_after_seconds=_int(env, "MEDIA_ABANDONED_AFTER_SECONDS", 86_400),
            media_max_image_bytes=_int(env, "MEDIA_MAX_IMAGE_BYTES", 20 * 1024 * 1024),
            media_max_video_bytes=_int(env, "MEDIA_MAX_VIDEO_BYTES", 100 * 1024 * 1024),
            media_max_video_seconds=_float(env, "MEDIA_MAX_VIDEO_SECONDS", 60.0),
            media_workers=_int(env, "MEDIA_WORKERS", 2),
            media_process_timeout_seconds=_float(env, "MEDIA_PROCESS_TIMEOUT_SECONDS", 30.0),
            media_worker_memory_mb=_int(env, "MEDIA_WORKER_MEMORY_MB", 2048),
            cleanup_interval_seconds=_int(env, "CLEANUP_INTERVAL_SECONDS", 300),
            outbox_max_attempts=_int(env, "OUTBOX_MAX_ATTEMPTS", 60),
            subscription_queue_size=_int(env, "SUBSCRIPTION_QUEUE_SIZE", 256),
            graphiql=_bool(env, "GRAPHIQL"),
            compiled_execution=_bool(env, "COMPILED_EXECUTION") is not False,
            execution_differential=bool(_bool(env, "EXECUTION_DIFFERENTIAL")),
            max_query_depth=_int(env, "MAX_QUERY_DEPTH", 10),
            max_aliases=_int(env, "MAX_ALIASES", 15),
            max_tokens=_int(env, "MAX_TOKENS", 2000),
            max_batch_operations=_int(env, "MAX_BATCH_OPERATIONS", 10),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 256 * 1024),
            database_pool_size=_int(env, "DATABASE_POOL_SIZE", 20),
            token_cache_seconds=_int(env, "TOKEN_CACHE_SECONDS", 60),
            max_query_cost=_int(env, "MAX_QUERY_COST", 5000),
            max_request_cost=_int(env, "MAX_REQUEST_COST", 0) or None,
            mutations_per_minute_per_user=_int(env, "MUTATIONS_PER_MINUTE_PER_USER", 120),
            mutations_per_minute_per_address=_int(env, "MUTATIONS_PER_MINUTE_PER_ADDRESS", 600),
            max_subscriptions_per_connection=_int(env, "MAX_SUBSCRIPTIONS_PER_CONNECTION", 20),
            ws_init_timeout_seconds=_int(env, "WS_INIT_TIMEOUT_SECONDS", 10),
            ws_max_message_bytes=_int(env, "WS_MAX_MESSAGE_BYTES", 64 * 1024),
            ws_keepalive_seconds=_int(env, "WS_KEEPALIVE_SECONDS", 15),
            ws_token_recheck_seconds=_int(env, "WS_TOKEN_RECHECK_SECONDS", 60),
            typing_ttl_seconds=_float(env, "TYPING_TTL_SECONDS", 5.0),
            message_edit_window_seconds=_int(env, "MESSAGE_EDIT_WINDOW_SECONDS", 900),
            fanout_threshold=_int(env, "FANOUT_THRESHOLD", 10_000),
            feed_cache_size=_int(env, "FEED_CACHE_SIZE", 800),
            feed_inactive_days=_int(env, "FEED_INACTIVE_DAYS", 30),
            fanout_interval_seconds=float(_int(env, "FANOUT_INTERVAL_SECONDS", 1)),
            feed_ranked_window_hours=_int(env, "FEED_RANKED_WINDOW_HOURS", 72),
            feed_ranked_candidates=_int(env, "FEED_RANKED_CANDIDATES", 500),
            feed_ranked_snapshot_seconds=_int(env, "FEED_RANKED_SNAPSHOT_SECONDS", 1800),
            feed_ranked_first_pages_per_minute=_int(env, "FEED_RANKED_FIRST_PAGES_PER_MINUTE", 20),
            feed_ranked_weight_recency=_float(env, "FEED_RANKED_WEIGHT_RECENCY", 2.0),
            feed_ranked_weight_engagement=_float(env, "FEED_RANKED_WEIGHT_ENGAGEMENT", 1.0),
            feed_ranked_weight_relationship=_float(env, "FEED_RANKED_WEIGHT_RELATIONSHIP", 1.0),
            feed_ranked_weight_content=_float(env, "FEED_RANKED_WEIGHT_CONTENT", 0.5),
            log_format=env.get("LOG_FORMAT", "").strip().lower() or None,
            log_level=env.get("LOG_LEVEL", "").strip().lower() or "info",
        )

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

    def with_secret(self) -> Settings:
        """Resolve SECRET_KEY: required in production (long and not a placeholder), else generated
        once and kept in DATA_DIR."""
        if self.secret_key:
            if self.is_production:
                check_secret_key(self.secret_key)
            return self
        if self.is_production:
            raise SettingsError(
                "SECRET_KEY is required when ENV=production: set it to one long random value shared by every "
                f"process, e.g. from: {GENERATE_SECRET}"
            )
        path = self.data_dir / "secret_key"
        if path.exists():
            return replace(self, secret_key=path.read_text().strip())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        log.warning("SECRET_KEY is not set: generated one and stored it in %s", path)
        return replace(self, secret_key=key)

    def validate(self) -> None:
        if self.node_id is not None and not 0 <= self.node_id < 1024:
            raise SettingsError("NODE_ID must be between 0 and 1023")
        if self.story_ttl_seconds <= 0 or self.token_ttl_seconds <= 0:
            raise SettingsError("STORY_TTL_SECONDS and TOKEN_TTL_SECONDS must be positive")
        if self.story_media_retention_seconds < 0 or self.story_sweep_interval_seconds <= 0:
            raise SettingsError(
                "STORY_MEDIA_RETENTION_SECONDS must be >= 0 and STORY_SWEEP_INTERVAL_SECONDS positive"
            )
        if self.report_retention_seconds < 0 or self.reports_per_hour <= 0 or self.evidence_url_seconds <= 0:
            raise SettingsError(
                "REPORT_RETENTION_SECONDS must be >= 0, REPORTS_PER_HOUR and EVIDENCE_URL_SECONDS positive"
            )
        if self.typing_ttl_seconds <= 0:
            raise SettingsError("TYPING_TTL_SECONDS must be positive")
        if self.message_edit_window_seconds < 0:
            raise SettingsError("MESSAGE_EDIT_WINDOW_SECONDS must be >= 0")
        if self.fanout_threshold < 0 or self.feed_cache_size < 1 or self.feed_inactive_days < 1:
            raise SettingsError("FANOUT_THRESHOLD >= 0, FEED_CACHE_SIZE >= 1 and FEED_INACTIVE_DAYS >= 1")
        if self.fanout_interval_seconds <= 0:
            raise SettingsError("FANOUT_INTERVAL_SECONDS must be positive")
        self._validate_ranking()
        if self.media_max_video_seconds <= 0 or self.media_process_timeout_seconds <= 0:
            raise SettingsError("MEDIA_MAX_VIDEO_SECONDS and MEDIA_PROCESS_TIMEOUT_SECONDS must be positive")
        if self.metrics_port is not None and not (
            0 < self.metrics_port < 65536 and self.metrics_port != self.port
        ):
            raise SettingsError(f"METRICS_PORT must be a free port other than PORT, got {self.metrics_port}")
        if self.ws_token_recheck_seconds < 1:
            raise SettingsError("WS_TOKEN_RECHECK_SECONDS must be at least 1")
        if self.database_pool_size < 1 or self.token_cache_seconds < 0:
            raise SettingsError("DATABASE_POOL_SIZE must be at least 1 and TOKEN_CACHE_SECONDS >= 0")
        if self.media_workers < 1:
            raise SettingsError("MEDIA_WORKERS must be at least 1")
        if self.outbox_max_attempts < 1:
            raise SettingsError(f"OUTBOX_MAX_ATTEMPTS must be at least 1, got {self.outbox_max_attempts}")
        if self.media_worker_memory_mb != 0 and self.media_worker_memory_mb < 256:
            raise SettingsError(
                "MEDIA_WORKER_MEMORY_MB must be at least 256 (a worker's decoders alone take about 200), "
                f"or 0 for no limit; got {self.media_worker_memory_mb}"
            )
        self._validate_urls()
        self._validate_accounts()
        self._validate_scale_out()
        if self.log_format is not None and self.log_format not in LOG_FORMATS:
            raise SettingsError(f"LOG_FORMAT must be json or text, got {self.log_format!r}")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")

    def _validate_ranking(self) -> None:
        if self.feed_ranked_window_hours < 1 or self.feed_ranked_snapshot_seconds < 1:
            raise SettingsError("FEED_RANKED_WINDOW_HOURS and FEED_RANKED_SNAPSHOT_SECONDS must be positive")
        if self.feed_ranked_first_pages_per_minute < 1:
            raise SettingsError("FEED_RANKED_FIRST_PAGES_PER_MINUTE must be at least 1")
        if not 1 <= self.feed_ranked_candidates <= 5000:
            raise SettingsError("FEED_RANKED_CANDIDATES must be between 1 and 5000")
        weights = {
            "FEED_RANKED_WEIGHT_RECENCY": self.feed_ranked_weight_recency,
            "FEED_RANKED_WEIGHT_ENGAGEMENT": self.feed_ranked_weight_engagement,
            "FEED_RANKED_WEIGHT_RELATIONSHIP": self.feed_ranked_weight_relationship,
            "FEED_RANKED_WEIGHT_CONTENT": self.feed_ranked_weight_content,
        }
        for name, weight in weights.items():
            if not 0 <= weight <= 1000:  # also refuses nan
                raise SettingsError(f"{name} must be a number between 0 and 1000, got {weight!r}")

    def _validate_urls(self) -> None:
        named = [("DATABASE_URL", self.database_url), ("REDIS_URL", self.redis_url)]
        named += [("DATABASE_REPLICA_URLS", url) for url in self.database_replica_urls]
        for name, url in named:
            _check_userinfo(name, url)
        if self.database_url and urlsplit(self.database_url).scheme not in DATABASE_SCHEMES:
            raise SettingsError(
                "DATABASE_URL must be a PostgreSQL URL (postgresql://user:password@host:5432/name) "
                f"or sqlite+aiosqlite:///path, got one starting {urlsplit(self.database_url).scheme}://"
            )
        if self.redis_url and urlsplit(self.redis_url).scheme not in REDIS_SCHEMES:
            raise SettingsError(
                "REDIS_URL must start with redis:// or rediss:// (TLS), or redis+cluster:// (Redis Cluster), "
                f"e.g. redis://:password@host:6379/0, got one starting {urlsplit(self.redis_url).scheme}://"
            )
        for url in self.database_replica_urls:
            if urlsplit(url).scheme not in POSTGRES_SCHEMES:
                raise SettingsError(
                    "DATABASE_REPLICA_URLS must list PostgreSQL URLs separated by commas "
                    f"(postgresql://user:password@replica:5432/name), got one starting {urlsplit(url).scheme}://"
                )

        if self.persisted_queries not in PERSISTED_QUERY_MODES:
            raise SettingsError(f"PERSISTED_QUERIES must be on or off, got {self.persisted_queries!r}")
        if min(self.persisted_queries_max_bytes, self.persisted_queries_cache_bytes) < 1024:
            raise SettingsError(
                "PERSISTED_QUERIES_MAX_BYTES and PERSISTED_QUERIES_CACHE_BYTES must be at least 1024"
            )
        if self.persisted_queries_registrations_per_minute < 1:
            raise SettingsError("PERSISTED_QUERIES_REGISTRATIONS_PER_MINUTE must be at least 1")
        if self.trusted_documents not in TRUSTED_DOCUMENT_MODES:
            raise SettingsError(
                f"TRUSTED_DOCUMENTS must be optional or required, got {self.trusted_documents!r}"
            )
        if self.trusted_documents == "required" and self.trusted_documents_manifest is None:
            raise SettingsError("TRUSTED_DOCUMENTS=required needs TRUSTED_DOCUMENTS_MANIFEST")
        if self.request_cost_limit < self.max_query_cost:
            raise SettingsError("MAX_REQUEST_COST must be at least MAX_QUERY_COST (one operation alone)")
        if self.max_batch_operations < 1 or self.cors_max_age_seconds < 0:
            raise SettingsError("MAX_BATCH_OPERATIONS must be positive and CORS_MAX_AGE_SECONDS >= 0")

    def _validate_accounts(self) -> None:
        if self.smtp_url and urlsplit(self.smtp_url).scheme not in SMTP_SCHEMES:
            raise SettingsError(
                "SMTP_URL must start with smtp:// (STARTTLS when offered) or smtps:// (TLS), e.g. "
                f"smtps://user:password@mail.example.com:465, got one starting {urlsplit(self.smtp_url).scheme}://"
            )
        if self.username_reuse_days < 0 or self.data_export_ttl_seconds <= 0:
            raise SettingsError("USERNAME_REUSE_DAYS must be >= 0 and DATA_EXPORT_TTL_SECONDS positive")
        if self.password_resets_per_window < 1 or self.password_reset_window_seconds < 1:
            raise SettingsError(
                "PASSWORD_RESETS_PER_WINDOW and PASSWORD_RESET_WINDOW_SECONDS must be positive"
            )

    def _validate_scale_out(self) -> None:
        """Several workers and read replicas need what processes share: PostgreSQL and Redis."""
        if self.web_concurrency < 1:
            raise SettingsError(f"WEB_CONCURRENCY must be at least 1, got {self.web_concurrency}")
        if self.web_concurrency > 1 and (self.is_sqlite or not self.redis_url):
            missing = " and ".join(
                name
                for name, absent in (
                    ("DATABASE_URL (PostgreSQL)", self.is_sqlite),
                    ("REDIS_URL", not self.redis_url),
                )
                if absent
            )
            raise SettingsError(
                f"{self.web_concurrency} workers need {missing}: the embedded SQLite file and the "
                "in-process pub/sub serve one process only (a subscriber on one worker would miss what "
                "another publishes); set them, or run one worker (WEB_CONCURRENCY=1)"
            )
        if self.database_replica_urls and (self.is_sqlite or not self.redis_url):
            raise SettingsError(
                "DATABASE_REPLICA_URLS needs DATABASE_URL (the PostgreSQL primary) and REDIS_URL (where each "
                "user's last write position is kept, so they read their own writes): set both, or unset it"
            )
        if self.replica_max_lag_seconds <= 0 or self.replica_check_interval_seconds <= 0:
            raise SettingsError("REPLICA_MAX_LAG_SECONDS and REPLICA_CHECK_INTERVAL_SECONDS must be positive")
