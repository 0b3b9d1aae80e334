"""Checking settings together: each refusal names the variable and how to fix it."""

from __future__ import annotations

from urllib.parse import urlsplit

from settings.fields import PERSISTED_QUERY_MODES, TRUSTED_DOCUMENT_MODES, SettingsFields
from settings.parsing import SettingsError
from settings.urls import (
    DATABASE_SCHEMES,
    LOG_FORMATS,
    LOG_LEVELS,
    POSTGRES_SCHEMES,
    REDIS_SCHEMES,
    SMTP_SCHEMES,
    check_userinfo,
)


def validate(settings: SettingsFields) -> None:
    """Refuse settings that cannot work together, naming the variable and the fix."""
    if settings.node_id is not None and not 0 <= settings.node_id < 1024:
        raise SettingsError("NODE_ID must be between 0 and 1023")
    if settings.story_ttl_seconds <= 0 or settings.token_ttl_seconds <= 0:
        raise SettingsError("STORY_TTL_SECONDS and TOKEN_TTL_SECONDS must be positive")
    if settings.story_media_retention_seconds < 0 or settings.story_sweep_interval_seconds <= 0:
        raise SettingsError(
            "STORY_MEDIA_RETENTION_SECONDS must be >= 0 and STORY_SWEEP_INTERVAL_SECONDS positive"
        )
    reports = settings.report_retention_seconds, settings.reports_per_hour, settings.evidence_url_seconds
    if reports[0] < 0 or reports[1] <= 0 or reports[2] <= 0:
        raise SettingsError(
            "REPORT_RETENTION_SECONDS must be >= 0, REPORTS_PER_HOUR and EVIDENCE_URL_SECONDS positive"
        )
    if settings.typing_ttl_seconds <= 0:
        raise SettingsError("TYPING_TTL_SECONDS must be positive")
    if settings.message_edit_window_seconds < 0:
        raise SettingsError("MESSAGE_EDIT_WINDOW_SECONDS must be >= 0")
    if settings.fanout_threshold < 0 or settings.feed_cache_size < 1 or settings.feed_inactive_days < 1:
        raise SettingsError("FANOUT_THRESHOLD >= 0, FEED_CACHE_SIZE >= 1 and FEED_INACTIVE_DAYS >= 1")
    if settings.fanout_interval_seconds <= 0:
        raise SettingsError("FANOUT_INTERVAL_SECONDS must be positive")
    _validate_ranking(settings)
    if settings.media_max_video_seconds <= 0 or settings.media_process_timeout_seconds <= 0:
        raise SettingsError("MEDIA_MAX_VIDEO_SECONDS and MEDIA_PROCESS_TIMEOUT_SECONDS must be positive")
    if settings.metrics_port is not None and not (
        0 < settings.metrics_port < 65536 and settings.metrics_port != settings.port
    ):
        raise SettingsError(f"METRICS_PORT must be a free port other than PORT, got {settings.metrics_port}")
    if settings.ws_token_recheck_seconds < 1:
        raise SettingsError("WS_TOKEN_RECHECK_SECONDS must be at least 1")
    if settings.database_pool_size < 1 or settings.token_cache_seconds < 0:
        raise SettingsError("DATABASE_POOL_SIZE must be at least 1 and TOKEN_CACHE_SECONDS >= 0")
    if settings.media_workers < 1:
        raise SettingsError("MEDIA_WORKERS must be at least 1")
    if settings.outbox_max_attempts < 1:
        raise SettingsError(f"OUTBOX_MAX_ATTEMPTS must be at least 1, got {settings.outbox_max_attempts}")
    if settings.media_worker_memory_mb != 0 and settings.media_worker_memory_mb < 256:
        raise SettingsError(
            "MEDIA_WORKER_MEMORY_MB must be at least 256 (a worker's decoders alone take about 200), "
            f"or 0 for no limit; got {settings.media_worker_memory_mb}"
        )
    _validate_urls(settings)
    _validate_accounts(settings)
    _validate_scale_out(settings)
    if settings.log_format is not None and settings.log_format not in LOG_FORMATS:
        raise SettingsError(f"LOG_FORMAT must be json or text, got {settings.log_format!r}")
    if settings.log_level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {settings.log_level!r}")


def _validate_ranking(settings: SettingsFields) -> None:
    if settings.feed_ranked_window_hours < 1 or settings.feed_ranked_snapshot_seconds < 1:
        raise SettingsError("FEED_RANKED_WINDOW_HOURS and FEED_RANKED_SNAPSHOT_SECONDS must be positive")
    if settings.feed_ranked_first_pages_per_minute < 1:
        raise SettingsError("FEED_RANKED_FIRST_PAGES_PER_MINUTE must be at least 1")
    if not 1 <= settings.feed_ranked_candidates <= 5000:
        raise SettingsError("FEED_RANKED_CANDIDATES must be between 1 and 5000")
    weights = {
        "FEED_RANKED_WEIGHT_RECENCY": settings.feed_ranked_weight_recency,
        "FEED_RANKED_WEIGHT_ENGAGEMENT": settings.feed_ranked_weight_engagement,
        "FEED_RANKED_WEIGHT_RELATIONSHIP": settings.feed_ranked_weight_relationship,
        "FEED_RANKED_WEIGHT_CONTENT": settings.feed_ranked_weight_content,
    }
    for name, weight in weights.items():
        if not 0 <= weight <= 1000:  # also refuses nan
            raise SettingsError(f"{name} must be a number between 0 and 1000, got {weight!r}")


def _validate_urls(settings: SettingsFields) -> None:
    named = [("DATABASE_URL", settings.database_url), ("REDIS_URL", settings.redis_url)]
    named += [("DATABASE_REPLICA_URLS", url) for url in settings.database_replica_urls]
    for name, url in named:
        check_userinfo(name, url)
    if settings.database_url and urlsplit(settings.database_url).scheme not in DATABASE_SCHEMES:
        raise SettingsError(
            "DATABASE_URL must be a PostgreSQL URL (postgresql://user:password@host:5432/name) "
            f"or sqlite+aiosqlite:///path, got one starting {urlsplit(settings.database_url).scheme}://"
        )
    if settings.redis_url and urlsplit(settings.redis_url).scheme not in REDIS_SCHEMES:
        raise SettingsError(
            "REDIS_URL must start with redis:// or rediss:// (TLS), or redis+cluster:// (Redis Cluster), "
            f"e.g. redis://:password@host:6379/0, got one starting {urlsplit(settings.redis_url).scheme}://"
        )
    for url in settings.database_replica_urls:
        if urlsplit(url).scheme not in POSTGRES_SCHEMES:
            raise SettingsError(
                "DATABASE_REPLICA_URLS must list PostgreSQL URLs separated by commas "
                f"(postgresql://user:password@replica:5432/name), got one starting {urlsplit(url).scheme}://"
            )

    if settings.persisted_queries not in PERSISTED_QUERY_MODES:
        raise SettingsError(f"PERSISTED_QUERIES must be on or off, got {settings.persisted_queries!r}")
    if min(settings.persisted_queries_max_bytes, settings.persisted_queries_cache_bytes) < 1024:
        raise SettingsError(
            "PERSISTED_QUERIES_MAX_BYTES and PERSISTED_QUERIES_CACHE_BYTES must be at least 1024"
        )
    if settings.persisted_queries_registrations_per_minute < 1:
        raise SettingsError("PERSISTED_QUERIES_REGISTRATIONS_PER_MINUTE must be at least 1")
    if settings.trusted_documents not in TRUSTED_DOCUMENT_MODES:
        raise SettingsError(
            f"TRUSTED_DOCUMENTS must be optional or required, got {settings.trusted_documents!r}"
        )
    if settings.trusted_documents == "required" and settings.trusted_documents_manifest is None:
        raise SettingsError("TRUSTED_DOCUMENTS=required needs TRUSTED_DOCUMENTS_MANIFEST")
    if settings.request_cost_limit < settings.max_query_cost:
        raise SettingsError("MAX_REQUEST_COST must be at least MAX_QUERY_COST (one operation alone)")
    if settings.max_batch_operations < 1 or settings.cors_max_age_seconds < 0:
        raise SettingsError("MAX_BATCH_OPERATIONS must be positive and CORS_MAX_AGE_SECONDS >= 0")


def _validate_accounts(settings: SettingsFields) -> None:
    if settings.smtp_url and urlsplit(settings.smtp_url).scheme not in SMTP_SCHEMES:
        raise SettingsError(
            "SMTP_URL must start with smtp:// (STARTTLS when offered) or smtps:// (TLS), e.g. "
            f"smtps://user:password@mail.example.com:465, got one starting {urlsplit(settings.smtp_url).scheme}://"
        )
    if settings.username_reuse_days < 0 or settings.data_export_ttl_seconds <= 0:
        raise SettingsError("USERNAME_REUSE_DAYS must be >= 0 and DATA_EXPORT_TTL_SECONDS positive")
    if settings.password_resets_per_window < 1 or settings.password_reset_window_seconds < 1:
        raise SettingsError("PASSWORD_RESETS_PER_WINDOW and PASSWORD_RESET_WINDOW_SECONDS must be positive")


def _validate_scale_out(settings: SettingsFields) -> None:
    """Several workers and read replicas need what processes share: PostgreSQL and Redis."""
    if settings.web_concurrency < 1:
        raise SettingsError(f"WEB_CONCURRENCY must be at least 1, got {settings.web_concurrency}")
    if settings.web_concurrency > 1 and (settings.is_sqlite or not settings.redis_url):
        missing = " and ".join(
            name
            for name, absent in (
                ("DATABASE_URL (PostgreSQL)", settings.is_sqlite),
                ("REDIS_URL", not settings.redis_url),
            )
            if absent
        )
        raise SettingsError(
            f"{settings.web_concurrency} workers need {missing}: the embedded SQLite file and the "
            "in-process pub/sub serve one process only (a subscriber on one worker would miss what "
            "another publishes); set them, or run one worker (WEB_CONCURRENCY=1)"
        )
    if settings.database_replica_urls and (settings.is_sqlite or not settings.redis_url):
        raise SettingsError(
            "DATABASE_REPLICA_URLS needs DATABASE_URL (the PostgreSQL primary) and REDIS_URL (where each "
            "user's last write position is kept, so they read their own writes): set both, or unset it"
        )
    if settings.replica_max_lag_seconds <= 0 or settings.replica_check_interval_seconds <= 0:
        raise SettingsError("REPLICA_MAX_LAG_SECONDS and REPLICA_CHECK_INTERVAL_SECONDS must be positive")
