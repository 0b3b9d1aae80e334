"""`Settings`: every setting, read from the environment (`Settings.from_env`), checked
(`validate`) and with its SECRET_KEY resolved (`with_secret`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from settings import secret_key, validation
from settings.fields import DEFAULT_CORS_HEADERS, SettingsFields
from settings.parsing import env_bool, env_float, env_int, env_list


@dataclass(frozen=True)
class Settings(SettingsFields):
    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            env=env.get("ENV", "development"),
            host=env.get("HOST", "127.0.0.1"),
            port=env_int(env, "PORT", 8000),
            data_dir=Path(env.get("DATA_DIR", "data")),
            database_url=env.get("DATABASE_URL") or None,
            database_replica_urls=env_list(env, "DATABASE_REPLICA_URLS"),
            replica_max_lag_seconds=env_float(env, "REPLICA_MAX_LAG_SECONDS", 5.0),
            replica_check_interval_seconds=env_float(env, "REPLICA_CHECK_INTERVAL_SECONDS", 1.0),
            redis_url=env.get("REDIS_URL") or None,
            web_concurrency=env_int(env, "WEB_CONCURRENCY", 1),
            metrics_port=env_int(env, "METRICS_PORT", 0) or None,
            metrics_host=env.get("METRICS_HOST") or "127.0.0.1",
            metrics_token=env.get("METRICS_TOKEN") or None,
            secret_key=env.get("SECRET_KEY") or None,
            allowed_origins=env_list(env, "ALLOWED_ORIGINS"),
            cors_allowed_headers=env_list(env, "CORS_ALLOWED_HEADERS") or DEFAULT_CORS_HEADERS,
            cors_max_age_seconds=env_int(env, "CORS_MAX_AGE_SECONDS", 7200),
            persisted_queries=env.get("PERSISTED_QUERIES", "on").strip().lower() or "on",
            persisted_queries_cache_size=env_int(env, "PERSISTED_QUERIES_CACHE_SIZE", 1000),
            persisted_queries_ttl_seconds=env_int(env, "PERSISTED_QUERIES_TTL_SECONDS", 7 * 86_400),
            persisted_queries_max_age_seconds=env_int(env, "PERSISTED_QUERIES_MAX_AGE_SECONDS", 60),
            persisted_queries_max_bytes=env_int(env, "PERSISTED_QUERIES_MAX_BYTES", 64 * 1024),
            persisted_queries_cache_bytes=env_int(env, "PERSISTED_QUERIES_CACHE_BYTES", 8 * 1024 * 1024),
            persisted_queries_registrations_per_minute=env_int(
                env, "PERSISTED_QUERIES_REGISTRATIONS_PER_MINUTE", 60
            ),
            trusted_documents=env.get("TRUSTED_DOCUMENTS", "optional").strip().lower() or "optional",
            trusted_documents_manifest=Path(env["TRUSTED_DOCUMENTS_MANIFEST"])
            if env.get("TRUSTED_DOCUMENTS_MANIFEST")
            else None,
            otel_exporter_otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
            otel_service_name=env.get("OTEL_SERVICE_NAME") or "ephemera",
            public_base_url=env.get("PUBLIC_BASE_URL") or None,
            story_ttl_seconds=env_int(env, "STORY_TTL_SECONDS", 86_400),
            story_media_retention_seconds=env_int(env, "STORY_MEDIA_RETENTION_SECONDS", 3_600),
            story_sweep_interval_seconds=env_int(env, "STORY_SWEEP_INTERVAL_SECONDS", 60),
            report_retention_seconds=env_int(env, "REPORT_RETENTION_SECONDS", 7 * 86_400),
            reports_per_hour=env_int(env, "REPORTS_PER_HOUR", 30),
            evidence_url_seconds=env_int(env, "EVIDENCE_URL_SECONDS", 300),
            token_ttl_seconds=env_int(env, "TOKEN_TTL_SECONDS", 30 * 86_400),
            login_attempts_per_window=env_int(env, "LOGIN_ATTEMPTS_PER_WINDOW", 10),
            login_window_seconds=env_int(env, "LOGIN_WINDOW_SECONDS", 300),
            signups_per_window=env_int(env, "SIGNUPS_PER_WINDOW", 20),
            signup_window_seconds=env_int(env, "SIGNUP_WINDOW_SECONDS", 300),
            smtp_url=env.get("SMTP_URL") or None,
            mail_from=env.get("MAIL_FROM") or "Ephemera <no-reply@localhost>",
            account_links_base_url=env.get("ACCOUNT_LINKS_BASE_URL") or None,
            password_resets_per_window=env_int(env, "PASSWORD_RESETS_PER_WINDOW", 5),
            password_reset_window_seconds=env_int(env, "PASSWORD_RESET_WINDOW_SECONDS", 3600),
            username_reuse_days=env_int(env, "USERNAME_REUSE_DAYS", 30),
            data_export_ttl_seconds=env_int(env, "DATA_EXPORT_TTL_SECONDS", 2 * 86_400),
            node_id=env_int(env, "NODE_ID", -1) if env.get("NODE_ID") else None,
            s3_bucket=env.get("S3_BUCKET") or None,
            s3_endpoint_url=env.get("S3_ENDPOINT_URL") or None,
            s3_region=env.get("S3_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            media_public_base_url=env.get("MEDIA_PUBLIC_BASE_URL") or None,
            media_upload_expires_seconds=env_int(env, "MEDIA_UPLOAD_EXPIRES_SECONDS", 900),
            media_url_expires_seconds=env_int(env, "MEDIA_URL_EXPIRES_SECONDS", 3600),
            media_abandoned_after_seconds=env_int(env, "MEDIA_ABANDONED_AFTER_SECONDS", 86_400),
            media_max_image_bytes=env_int(env, "MEDIA_MAX_IMAGE_BYTES", 20 * 1024 * 1024),
            media_max_video_bytes=env_int(env, "MEDIA_MAX_VIDEO_BYTES", 100 * 1024 * 1024),
            media_max_video_seconds=env_float(env, "MEDIA_MAX_VIDEO_SECONDS", 60.0),
            media_workers=env_int(env, "MEDIA_WORKERS", 2),
            media_process_timeout_seconds=env_float(env, "MEDIA_PROCESS_TIMEOUT_SECONDS", 30.0),
            media_worker_memory_mb=env_int(env, "MEDIA_WORKER_MEMORY_MB", 2048),
            cleanup_interval_seconds=env_int(env, "CLEANUP_INTERVAL_SECONDS", 300),
            outbox_max_attempts=env_int(env, "OUTBOX_MAX_ATTEMPTS", 60),
            subscription_queue_size=env_int(env, "SUBSCRIPTION_QUEUE_SIZE", 256),
            graphiql=env_bool(env, "GRAPHIQL"),
            compiled_execution=env_bool(env, "COMPILED_EXECUTION") is not False,
            execution_differential=bool(env_bool(env, "EXECUTION_DIFFERENTIAL")),
            max_query_depth=env_int(env, "MAX_QUERY_DEPTH", 10),
            max_aliases=env_int(env, "MAX_ALIASES", 15),
            max_tokens=env_int(env, "MAX_TOKENS", 2000),
            max_batch_operations=env_int(env, "MAX_BATCH_OPERATIONS", 10),
            max_body_bytes=env_int(env, "MAX_BODY_BYTES", 256 * 1024),
            database_pool_size=env_int(env, "DATABASE_POOL_SIZE", 20),
            token_cache_seconds=env_int(env, "TOKEN_CACHE_SECONDS", 60),
            max_query_cost=env_int(env, "MAX_QUERY_COST", 5000),
            max_request_cost=env_int(env, "MAX_REQUEST_COST", 0) or None,
            mutations_per_minute_per_user=env_int(env, "MUTATIONS_PER_MINUTE_PER_USER", 120),
            mutations_per_minute_per_address=env_int(env, "MUTATIONS_PER_MINUTE_PER_ADDRESS", 600),
            max_subscriptions_per_connection=env_int(env, "MAX_SUBSCRIPTIONS_PER_CONNECTION", 20),
            ws_init_timeout_seconds=env_int(env, "WS_INIT_TIMEOUT_SECONDS", 10),
            ws_max_message_bytes=env_int(env, "WS_MAX_MESSAGE_BYTES", 64 * 1024),
            ws_keepalive_seconds=env_int(env, "WS_KEEPALIVE_SECONDS", 15),
            ws_token_recheck_seconds=env_int(env, "WS_TOKEN_RECHECK_SECONDS", 60),
            typing_ttl_seconds=env_float(env, "TYPING_TTL_SECONDS", 5.0),
            message_edit_window_seconds=env_int(env, "MESSAGE_EDIT_WINDOW_SECONDS", 900),
            fanout_threshold=env_int(env, "FANOUT_THRESHOLD", 10_000),
            feed_cache_size=env_int(env, "FEED_CACHE_SIZE", 800),
            feed_inactive_days=env_int(env, "FEED_INACTIVE_DAYS", 30),
            fanout_interval_seconds=float(env_int(env, "FANOUT_INTERVAL_SECONDS", 1)),
            feed_ranked_window_hours=env_int(env, "FEED_RANKED_WINDOW_HOURS", 72),
            feed_ranked_candidates=env_int(env, "FEED_RANKED_CANDIDATES", 500),
            feed_ranked_snapshot_seconds=env_int(env, "FEED_RANKED_SNAPSHOT_SECONDS", 1800),
            feed_ranked_first_pages_per_minute=env_int(env, "FEED_RANKED_FIRST_PAGES_PER_MINUTE", 20),
            feed_ranked_weight_recency=env_float(env, "FEED_RANKED_WEIGHT_RECENCY", 2.0),
            feed_ranked_weight_engagement=env_float(env, "FEED_RANKED_WEIGHT_ENGAGEMENT", 1.0),
            feed_ranked_weight_relationship=env_float(env, "FEED_RANKED_WEIGHT_RELATIONSHIP", 1.0),
            feed_ranked_weight_content=env_float(env, "FEED_RANKED_WEIGHT_CONTENT", 0.5),
            log_format=env.get("LOG_FORMAT", "").strip().lower() or None,
            log_level=env.get("LOG_LEVEL", "").strip().lower() or "info",
        )

    def with_secret(self) -> Settings:
        """Resolve SECRET_KEY: required in production (long and not a placeholder), else generated
        once and kept in DATA_DIR (settings/secret_key.py)."""
        return secret_key.with_secret(self)

    def validate(self) -> None:
        validation.validate(self)
