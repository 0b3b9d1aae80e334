"""Settings from the environment, the secret key, and the readiness probe."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from settings import Settings, SettingsError
from tests.harness import Api

# variable -> (raw value, Settings attribute, parsed value)
ENVIRONMENT: dict[str, tuple[str, str, Any]] = {
    "ENV": ("production", "env", "production"),
    "HOST": ("0.0.0.0", "host", "0.0.0.0"),
    "PORT": ("9000", "port", 9000),
    "DATA_DIR": ("/var/lib/ephemera", "data_dir", Path("/var/lib/ephemera")),
    "DATABASE_URL": ("postgresql+asyncpg://u@db/e", "database_url", "postgresql+asyncpg://u@db/e"),
    "DATABASE_REPLICA_URLS": ("postgres://u@r1/e, postgres://u@r2/e", "database_replica_urls",
                              ("postgres://u@r1/e", "postgres://u@r2/e")),
    "REPLICA_MAX_LAG_SECONDS": ("2.5", "replica_max_lag_seconds", 2.5),
    "REPLICA_CHECK_INTERVAL_SECONDS": ("0.5", "replica_check_interval_seconds", 0.5),
    "REDIS_URL": ("redis://cache:6379/0", "redis_url", "redis://cache:6379/0"),
    "WEB_CONCURRENCY": ("4", "web_concurrency", 4),
    "SECRET_KEY": ("s3cret", "secret_key", "s3cret"),
    "ALLOWED_ORIGINS": (" https://a.example, https://b.example ,", "allowed_origins",
                        ("https://a.example", "https://b.example")),
    "PUBLIC_BASE_URL": ("https://api.example", "public_base_url", "https://api.example"),
    "STORY_TTL_SECONDS": ("3600", "story_ttl_seconds", 3600),
    "TOKEN_TTL_SECONDS": ("7200", "token_ttl_seconds", 7200),
    "LOGIN_ATTEMPTS_PER_WINDOW": ("3", "login_attempts_per_window", 3),
    "LOGIN_WINDOW_SECONDS": ("60", "login_window_seconds", 60),
    "NODE_ID": ("7", "node_id", 7),
    "S3_BUCKET": ("media", "s3_bucket", "media"),
    "S3_ENDPOINT_URL": ("http://minio:9000", "s3_endpoint_url", "http://minio:9000"),
    "S3_REGION": ("eu-west-1", "s3_region", "eu-west-1"),
    "MEDIA_PUBLIC_BASE_URL": ("https://cdn.example", "media_public_base_url", "https://cdn.example"),
    "MEDIA_UPLOAD_EXPIRES_SECONDS": ("60", "media_upload_expires_seconds", 60),
    "MEDIA_URL_EXPIRES_SECONDS": ("120", "media_url_expires_seconds", 120),
    "MEDIA_ABANDONED_AFTER_SECONDS": ("180", "media_abandoned_after_seconds", 180),
    "MEDIA_MAX_IMAGE_BYTES": ("1000", "media_max_image_bytes", 1000),
    "MEDIA_MAX_VIDEO_BYTES": ("2000", "media_max_video_bytes", 2000),
    "MEDIA_MAX_VIDEO_SECONDS": ("15.5", "media_max_video_seconds", 15.5),
    "MEDIA_WORKERS": ("4", "media_workers", 4),
    "MEDIA_WORKER_MEMORY_MB": ("512", "media_worker_memory_mb", 512),
    "OUTBOX_MAX_ATTEMPTS": ("5", "outbox_max_attempts", 5),
    "MEDIA_PROCESS_TIMEOUT_SECONDS": ("12", "media_process_timeout_seconds", 12.0),
    "CLEANUP_INTERVAL_SECONDS": ("30", "cleanup_interval_seconds", 30),
    "SUBSCRIPTION_QUEUE_SIZE": ("16", "subscription_queue_size", 16),
    "LOG_FORMAT": ("JSON", "log_format", "json"),
    "LOG_LEVEL": ("Debug", "log_level", "debug"),
}  # fmt: skip


def test_from_env_parses_every_variable() -> None:
    settings = Settings.from_env({name: raw for name, (raw, _, _) in ENVIRONMENT.items()})
    for name, (_, attribute, expected) in ENVIRONMENT.items():
        assert getattr(settings, attribute) == expected, name
    assert settings.is_production
    assert settings.effective_database_url == "postgresql+asyncpg://u@db/e"
    assert not settings.should_migrate_on_start


def test_logs_are_json_in_production_and_text_elsewhere() -> None:
    assert Settings(env="production").json_logs and not Settings().json_logs
    assert not Settings(env="production", log_format="text").json_logs
    assert Settings(log_format="json").json_logs
    assert Settings(log_level="debug").debug and not Settings().debug


def test_from_env_defaults_to_the_embedded_setup(tmp_path: Path) -> None:
    settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
    assert settings == Settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'ephemera.db'}"
    assert settings.should_migrate_on_start
    assert not settings.is_production
    assert (settings.redis_url, settings.node_id, settings.allowed_origins) == (None, None, ())


@pytest.mark.parametrize(
    ("name", "raw"), [("PORT", "http"), ("TOKEN_TTL_SECONDS", "1.5"), ("NODE_ID", "x"), ("GRAPHIQL", "maybe")]
)
def test_a_malformed_variable_is_named_in_the_error(name: str, raw: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: raw})


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("NODE_ID", "1024"),
        ("TOKEN_TTL_SECONDS", "0"),
        ("DATABASE_URL", "mysql://u@db/e"),
        ("REDIS_URL", "http://cache:6379"),
        ("LOG_FORMAT", "xml"),
        ("LOG_LEVEL", "loud"),
        ("MEDIA_WORKERS", "0"),
        ("MEDIA_WORKER_MEMORY_MB", "100"),
        ("OUTBOX_MAX_ATTEMPTS", "0"),
        ("MEDIA_MAX_VIDEO_SECONDS", "0"),
        ("MEDIA_PROCESS_TIMEOUT_SECONDS", "-1"),
        ("WEB_CONCURRENCY", "0"),
        ("DATABASE_REPLICA_URLS", "mysql://u@replica/e"),
    ],
)
def test_out_of_range_values_are_refused(name: str, raw: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: raw, "SECRET_KEY": "k"}).validate()
    with pytest.raises(SettingsError, match=name):
        create_app(Settings.from_env({name: raw, "DATA_DIR": str(tmp_path)}))


def test_production_requires_a_secret_key(tmp_path: Path) -> None:
    settings = Settings.from_env({"ENV": "production", "DATA_DIR": str(tmp_path)})
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        settings.with_secret()
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        create_app(settings)
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("...", "is a placeholder"),
        ("x", "is a placeholder"),
        ("changeme", "is a placeholder"),
        ("Secret", "is a placeholder"),
        ("a" * 40, "is a placeholder"),
        ("test-secret-key", "is 15 bytes long, under 32"),
        ("éa" * 10, "is 30 bytes long, under 32"),
    ],
)
def test_production_refuses_short_or_placeholder_secret_keys(key: str, problem: str, tmp_path: Path) -> None:
    settings = Settings.from_env({"ENV": "production", "DATA_DIR": str(tmp_path), "SECRET_KEY": key})
    with pytest.raises(SettingsError, match=f"^SECRET_KEY {problem}: .*secrets.token_urlsafe"):
        settings.with_secret()
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        create_app(settings)
    long_enough = replace(settings, secret_key="k" + "0123456789abcdef" * 2)
    assert long_enough.with_secret() is long_enough
    # Development keeps whatever it is given (tests, local runs), and a generated key without one.
    assert Settings.from_env({"DATA_DIR": str(tmp_path), "SECRET_KEY": key}).with_secret().secret_key == key


def test_development_generates_a_secret_key_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data_dir = tmp_path / "data"
    with caplog.at_level(logging.WARNING, logger="ephemera.settings"):
        first = Settings.from_env({"DATA_DIR": str(data_dir)}).with_secret()
    assert first.secret_key
    assert len(first.secret_key) >= 32
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert "SECRET_KEY" in caplog.records[0].getMessage()
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ephemera.settings"):
        second = Settings.from_env({"DATA_DIR": str(data_dir)}).with_secret()
    assert second.secret_key == first.secret_key
    assert caplog.records == []

    given = Settings.from_env({"DATA_DIR": str(data_dir), "SECRET_KEY": "mine"}).with_secret()
    assert given.secret_key == "mine"


async def test_readyz_reports_each_dependency(api: Api, app_redis_url: str | None) -> None:
    response = await api.http.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body.get("redis") == ("ok" if app_redis_url else None)


def test_transport_settings_come_from_the_environment(tmp_path: Path) -> None:
    manifest = tmp_path / "trusted.json"
    settings = Settings.from_env(
        {
            "CORS_ALLOWED_HEADERS": "Authorization, X-Custom",
            "CORS_MAX_AGE_SECONDS": "60",
            "PERSISTED_QUERIES": "off",
            "TRUSTED_DOCUMENTS": "required",
            "TRUSTED_DOCUMENTS_MANIFEST": str(manifest),
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
        }
    )
    assert settings.cors_allowed_headers == ("Authorization", "X-Custom")
    assert settings.cors_max_age_seconds == 60
    assert (settings.persisted_queries, settings.trusted_documents) == ("off", "required")
    assert settings.trusted_documents_manifest == manifest
    assert settings.otel_exporter_otlp_endpoint == "http://collector:4318"
    assert Settings.from_env({}).max_batch_operations == 10
    with pytest.raises(SettingsError, match="TRUSTED_DOCUMENTS_MANIFEST"):
        Settings(trusted_documents="required").validate()
    with pytest.raises(SettingsError, match="PERSISTED_QUERIES"):
        Settings(persisted_queries="maybe").validate()


@pytest.mark.parametrize(
    ("environment", "missing"),
    [
        ({"WEB_CONCURRENCY": "2"}, "2 workers need DATABASE_URL (PostgreSQL) and REDIS_URL"),
        ({"WEB_CONCURRENCY": "3", "DATABASE_URL": "postgres://u@db/e"}, "3 workers need REDIS_URL"),
        ({"WEB_CONCURRENCY": "2", "REDIS_URL": "redis://cache"}, "2 workers need DATABASE_URL (PostgreSQL):"),
        (
            {"DATABASE_REPLICA_URLS": "postgres://u@r/e", "DATABASE_URL": "postgres://u@db/e"},
            "needs DATABASE_URL",
        ),
        ({"REPLICA_MAX_LAG_SECONDS": "0"}, "REPLICA_MAX_LAG_SECONDS and REPLICA_CHECK_INTERVAL_SECONDS"),
    ],
)
def test_scaling_out_refuses_what_one_process_keeps_to_itself(
    environment: dict[str, str], missing: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environment).validate()
    assert missing in str(refused.value)


def test_a_cluster_url_is_a_redis_url() -> None:
    settings = Settings.from_env(
        {"REDIS_URL": "redis+cluster://:pw@cache:6379", "DATABASE_URL": "postgres://u@db/e"}
    )
    settings.validate()
    assert settings.redis_cluster
