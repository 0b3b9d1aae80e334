"""The URL forms operators paste: providers' postgres:// and postgresql:// (with ?sslmode=), and
redis://, rediss:// (TLS) and a password in a Redis URL."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from services import open_services
from settings import Settings, asyncpg_url
from startup import StartupError
from tests.harness import running_server, test_settings
from tests.processes import ROOT, clean_env, ephemera, free_port, running
from tests.services import PostgresDatabase, postgres_admin_url, unavailable

PASSWORD = "correct-horse-battery"
READY = re.compile(r"Ready to accept connections")


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db.example:6543/app", "postgresql+asyncpg://u:p@db.example:6543/app"),
        ("postgresql://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("postgresql+asyncpg://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("postgres://u:p@db/app?sslmode=require", "postgresql+asyncpg://u:p@db/app?ssl=require"),
        ("sqlite+aiosqlite:////var/lib/e.db", "sqlite+aiosqlite:////var/lib/e.db"),
    ],
)
def test_provider_urls_are_used_through_asyncpg(given: str, used: str) -> None:
    assert asyncpg_url(given) == used
    assert Settings(database_url=given).effective_database_url == used


@pytest.mark.parametrize("form", ["postgres://{rest}", "postgresql://{rest}?sslmode=disable"])
async def test_the_server_runs_on_a_provider_url(form: str, postgres_database: str, tmp_path: Path) -> None:
    rest = postgres_database.split("://", 1)[1]
    settings = test_settings(form.format(rest=rest), None, tmp_path / "data")
    async with running_server(settings) as api:
        assert (await api.http.get("/readyz")).json()["database"] == "ok"


@pytest.fixture
def empty_provider_url(postgres_database: str) -> Iterator[str]:
    admin = postgres_admin_url()
    assert admin is not None
    database = PostgresDatabase.create(admin)
    try:
        yield make_url(database.url).set(drivername="postgres").render_as_string(hide_password=False)
    finally:
        database.drop()


def test_migrate_takes_a_provider_url(empty_provider_url: str, tmp_path: Path) -> None:
    env = clean_env(DATABASE_URL=empty_provider_url, DATA_DIR=str(tmp_path / "data"))
    result = ephemera("migrate", env=env)
    assert result.returncode == 0, result.stderr
    # Alembic's own command line reads the same setting through migrations/env.py.
    again = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr


@dataclass(frozen=True)
class PrivateRedis:
    port: int
    ca_file: Path | None = None

    def url(self, password: str | None = PASSWORD) -> str:
        scheme = "rediss" if self.ca_file else "redis"
        auth = f":{password}@" if password is not None else ""
        query = f"?ssl_ca_certs={self.ca_file}" if self.ca_file else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}/0{query}"


def _certificate(directory: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        unavailable("openssl is not installed: no certificate for a TLS Redis")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@contextmanager
def private_redis(directory: Path, tls: bool) -> Iterator[PrivateRedis]:
    """A redis-server of the test's own on a loopback port, with a password (and TLS)."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    command = ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    command += ["--requirepass", PASSWORD]
    ca_file = None
    if tls:
        ca_file, key = _certificate(directory)
        command += ["--port", "0", "--tls-port", str(port), "--tls-auth-clients", "no"]
        command += [
            "--tls-cert-file",
            str(ca_file),
            "--tls-key-file",
            str(key),
            "--tls-ca-cert-file",
            str(ca_file),
        ]
    else:
        command += ["--port", str(port)]
    with running(command, READY, cwd=directory):
        yield PrivateRedis(port, ca_file)


@pytest.fixture(params=["redis", "rediss"])
def redis_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path, tls=request.param == "rediss") as server:
        yield server


@pytest.fixture
def sqlite_settings(sqlite_template: Path, tmp_path: Path) -> Settings:
    path = tmp_path / "ephemera.db"
    shutil.copy(sqlite_template, path)
    return test_settings(f"sqlite+aiosqlite:///{path}", None, tmp_path / "data")


async def test_redis_with_a_password(redis_server: PrivateRedis, sqlite_settings: Settings) -> None:
    settings = replace(sqlite_settings, redis_url=redis_server.url())
    async with running_server(settings) as api:
        assert (await api.http.get("/readyz")).json() == {"status": "ok", "database": "ok", "redis": "ok"}
        assert api.services.redis is not None and await api.services.redis.ping()


async def test_redis_without_a_password(test_redis_url: str | None, sqlite_settings: Settings) -> None:
    if test_redis_url is None:
        unavailable("the test Redis is unreachable or turned off (TEST_REDIS_URL)")
    settings = replace(sqlite_settings, redis_url=test_redis_url)
    async with running_server(settings) as api:
        assert (await api.http.get("/readyz")).json()["redis"] == "ok"


async def test_a_wrong_or_missing_redis_password_is_said(tmp_path: Path, sqlite_settings: Settings) -> None:
    with private_redis(tmp_path, tls=False) as server:
        wrong = replace(sqlite_settings, redis_url=server.url("wrong"))
        with pytest.raises(StartupError, match=rf"^REDIS_URL: Redis on 127.0.0.1:{server.port} refused the "):
            await open_services(wrong)
        missing = replace(sqlite_settings, redis_url=server.url(None))
        with pytest.raises(StartupError, match=rf"^REDIS_URL: Redis on 127.0.0.1:{server.port} requires a"):
            await open_services(missing)
