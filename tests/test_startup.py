"""An operator's mistakes at start-up, made on the real process: each ends it with one line that
names the setting and the fix, exit status 2 and no traceback (LOG_LEVEL=debug shows it)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL, make_url

from tests.conftest import FAKE_AWS_ENV
from tests.processes import clean_env, ephemera, free_port, last_line, serving
from tests.services import PostgresDatabase, postgres_admin_url

LONG_SECRET = "a-long-random-production-secret-of-48-characters"


def assert_refused(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    line = last_line(result)
    assert line.startswith("ephemera: ") and expected in line, result.stderr


def dev_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    return clean_env(DATA_DIR=str(tmp_path / "data"), PORT=str(free_port()), **settings)


def provider_url(url: URL) -> str:
    """As a hosting provider hands it out: postgresql://, no driver."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def postgres(request: pytest.FixtureRequest) -> URL:
    """The test PostgreSQL (skipped, or failed under CI, when it is unreachable)."""
    return make_url(request.getfixturevalue("postgres_database"))


def database_mistake(mistake: str, request: pytest.FixtureRequest) -> tuple[str, str]:
    """DATABASE_URL with the mistake, and what the line must say."""
    if mistake == "down":
        port = free_port()
        return (
            f"postgresql://postgres@127.0.0.1:{port}/ephemera",
            # The reason in brackets is the event loop's own words (asyncio: "Connect call failed",
            # uvloop, which `ephemera serve` runs on: "Connection refused").
            f"DATABASE_URL: cannot reach PostgreSQL on 127.0.0.1:{port} (",
        )
    url: URL = request.getfixturevalue("postgres")
    where = f"{url.host}:{url.port or 5432}"
    if mistake == "missing":
        return (
            provider_url(url.set(database="ephemera_no_such_database")),
            f'DATABASE_URL: database "ephemera_no_such_database" does not exist on {where}: '
            "create it (createdb",
        )
    return (
        provider_url(url.set(username="ephemera_no_such_role", password=None)),
        f'DATABASE_URL: PostgreSQL on {where} refused user "ephemera_no_such_role" (role '
        '"ephemera_no_such_role" does not exist): fix the user name and password in DATABASE_URL',
    )


@pytest.mark.parametrize("command", ["serve", "migrate"])
@pytest.mark.parametrize("mistake", ["missing", "refused", "down"])
def test_a_database_mistake_is_one_line(
    command: str, mistake: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url, expected = database_mistake(mistake, request)
    assert_refused(ephemera(command, env=dev_env(tmp_path, DATABASE_URL=url)), expected)


def test_an_unencoded_at_sign_in_a_password_gets_the_fix(tmp_path: Path) -> None:
    url = f"postgresql://app:p@ss@127.0.0.1:{free_port()}/app"
    result = ephemera("serve", env=dev_env(tmp_path, DATABASE_URL=url))
    assert_refused(result, "DATABASE_URL: the password or user name contains '@': percent-encode it as %40")


def test_debug_adds_the_traceback(tmp_path: Path) -> None:
    port = free_port()
    env = dev_env(
        tmp_path, DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/ephemera", LOG_LEVEL="debug"
    )
    result = ephemera("serve", env=env)
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "ConnectionRefusedError" in result.stderr
    assert last_line(result).startswith(
        f"ephemera: DATABASE_URL: cannot reach PostgreSQL on 127.0.0.1:{port}"
    )


def test_unreachable_redis_is_said_before_anything_changes(tmp_path: Path) -> None:
    port = free_port()
    result = ephemera("serve", env=dev_env(tmp_path, REDIS_URL=f"redis://127.0.0.1:{port}/0"))
    assert_refused(result, f"REDIS_URL: cannot reach Redis on 127.0.0.1:{port} (")
    assert last_line(result).endswith("start it, or fix the host and port in REDIS_URL")
    # The embedded default database was neither created nor migrated first.
    assert "Running upgrade" not in result.stdout + result.stderr
    assert not (tmp_path / "data" / "ephemera.db").exists()


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory nobody may write in, root included (root ignores permission bits)."""
    path = tmp_path / "read-only"
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o500)
        yield path
        path.chmod(0o700)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", path]).returncode != 0:
        pytest.skip("running as root without chattr +i here: no directory is read-only to root")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", path], check=True)


def test_a_data_dir_that_is_not_writable(read_only_dir: Path) -> None:
    env = clean_env(DATA_DIR=str(read_only_dir), PORT=str(free_port()))
    result = ephemera("serve", env=env)
    assert_refused(result, f"DATA_DIR {read_only_dir} is not writable (")
    assert last_line(result).endswith(
        "; it holds the SQLite database, media files and the generated secret key: make it writable by "
        "the user the server runs as, or set DATA_DIR to a directory that is"
    )


def test_a_missing_bucket(moto_s3: str, tmp_path: Path) -> None:
    env = dev_env(tmp_path, S3_BUCKET="ephemera-no-such-bucket", S3_ENDPOINT_URL=moto_s3, **FAKE_AWS_ENV)
    assert_refused(
        ephemera("serve", env=env),
        f'S3_BUCKET: bucket "ephemera-no-such-bucket" does not exist at {moto_s3}: create it '
        f"(aws --endpoint-url {moto_s3} s3 mb s3://ephemera-no-such-bucket) or fix S3_BUCKET",
    )


class RefusingS3(BaseHTTPRequestHandler):
    """Answers every request as S3 does a key it does not know."""

    BODY = (
        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS '
        b"Access Key Id you provided does not exist in our records.</Message></Error>"
    )

    def _refuse(self, body: bool) -> None:
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(self.BODY)))
        self.end_headers()
        if body:
            self.wfile.write(self.BODY)

    def do_HEAD(self) -> None:
        self._refuse(body=False)

    def do_GET(self) -> None:
        self._refuse(body=True)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def refusing_s3() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RefusingS3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_refused_s3_credentials(refusing_s3: str, tmp_path: Path) -> None:
    env = dev_env(tmp_path, S3_BUCKET="media", S3_ENDPOINT_URL=refusing_s3, **FAKE_AWS_ENV)
    assert_refused(
        ephemera("serve", env=env),
        f'S3_BUCKET: {refusing_s3} refused access to bucket "media" (403): check AWS_ACCESS_KEY_ID and '
        "AWS_SECRET_ACCESS_KEY",
    )


def test_a_port_in_use_is_said_before_any_other_work(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # Every service is missing too: the port must be what is reported, and nothing done first.
        env = clean_env(
            DATA_DIR=str(tmp_path / "data"),
            PORT=str(port),
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/ephemera",
            REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        )
        result = ephemera("serve", env=env)
    assert_refused(
        result, f"PORT {port} is already in use on 127.0.0.1: stop the program listening there or set PORT"
    )
    assert not (tmp_path / "data").exists()


def test_production_without_a_secret_key(tmp_path: Path) -> None:
    assert_refused(
        ephemera("serve", env=dev_env(tmp_path, ENV="production")),
        "SECRET_KEY is required when ENV=production: set it to one long random value shared by every process",
    )


def test_production_refuses_the_readmes_placeholder_secret_key(tmp_path: Path) -> None:
    result = ephemera("serve", env=dev_env(tmp_path, ENV="production", SECRET_KEY="..."))
    assert_refused(result, "SECRET_KEY is a placeholder: set it to one long random value shared by every")
    assert "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'" in last_line(result)


def test_the_demo_refuses_production(tmp_path: Path) -> None:
    result = ephemera("demo", env=dev_env(tmp_path, ENV="production", SECRET_KEY=LONG_SECRET))
    assert_refused(result, "demo: ENV=production: the demo adds accounts whose password is published; run ")
    assert "ephemera demo --force" in last_line(result)


@pytest.fixture
def empty_database(postgres: URL) -> Iterator[str]:
    admin = postgres_admin_url()
    assert admin is not None
    database = PostgresDatabase.create(admin)
    try:
        yield provider_url(make_url(database.url))
    finally:
        database.drop()


@pytest.fixture
def production_env(
    empty_database: str, moto_s3: str, test_redis_url: str | None, tmp_path: Path
) -> dict[str, str]:
    import boto3

    bucket = f"ephemera-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_s3,
        aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=FAKE_AWS_ENV["AWS_DEFAULT_REGION"],
    )
    s3.create_bucket(Bucket=bucket)
    s3.close()
    return dev_env(
        tmp_path,
        ENV="production",
        SECRET_KEY=LONG_SECRET,
        METRICS_PORT=str(free_port()),
        DATABASE_URL=empty_database,
        S3_BUCKET=bucket,
        S3_ENDPOINT_URL=moto_s3,
        **FAKE_AWS_ENV,
        **({"REDIS_URL": test_redis_url} if test_redis_url else {}),
    )


def test_an_unmigrated_database_points_at_make_migrate(production_env: dict[str, str]) -> None:
    refused = ephemera("serve", env=production_env)
    assert_refused(refused, "DATABASE_URL: the database is at revision none (empty), but this version needs ")
    assert "run `make migrate` (or `.venv/bin/ephemera migrate`) with the same DATABASE_URL" in refused.stderr

    migrated = ephemera("migrate", env=production_env)
    assert migrated.returncode == 0, migrated.stderr
    assert "The database is at the latest revision" in migrated.stdout

    with serving(production_env) as server:
        assert httpx.get(f"{server.url}/readyz").json()["database"] == "ok"
        # Metrics on their own loopback port, not on the public one.
        assert httpx.get(f"{server.url}/metrics").status_code == 404
        scraped = httpx.get(f"http://127.0.0.1:{production_env['METRICS_PORT']}/metrics")
        assert (
            scraped.status_code == 200 and 'ephemera_dependency_up{dependency="database"} 1.0' in scraped.text
        )
    # Production logs are JSON lines, the "listening" one included, and no warning was needed.
    logged = [json.loads(line) for line in server.lines if line.startswith("{")]
    assert any(entry["message"].startswith("listening on http://") for entry in logged)
    assert [entry for entry in logged if entry["level"] == "warning"] == []
    assert server.returncode == 0


def test_production_warns_about_what_does_not_scale(tmp_path: Path) -> None:
    env = dev_env(tmp_path, ENV="production", SECRET_KEY=LONG_SECRET, GRAPHIQL="true")
    with serving(env, stop=signal.SIGTERM) as server:
        pass
    assert server.returncode == 0  # SIGTERM drains, closes the services and ends the process cleanly
    warnings = [
        entry["message"]
        for entry in (json.loads(line) for line in server.lines if line.startswith("{"))
        if entry["level"] == "warning"
    ]
    assert warnings == [
        "ENV=production on the embedded SQLite database: set DATABASE_URL to PostgreSQL "
        "(one process only, no replicas, backups are yours)",
        f"ENV=production with media on local disk ({tmp_path / 'data' / 'media'}): set S3_BUCKET, "
        "or no other process can serve these files",
        "ENV=production without METRICS_PORT or METRICS_TOKEN: /metrics is served nowhere; set METRICS_PORT "
        "(a listener of its own, on METRICS_HOST=127.0.0.1 by default) or METRICS_TOKEN (/metrics on PORT "
        "behind Authorization: Bearer)",
        "GRAPHIQL=true with ENV=production: anyone can open GraphiQL at /graphql (introspection stays off); "
        "unset GRAPHIQL unless that is meant",
    ]


def test_development_says_where_it_listens_and_keeps_tokens_out_of_logs(tmp_path: Path) -> None:
    with serving(dev_env(tmp_path)) as server:
        assert httpx.get(f"{server.url}/healthz?token=s3cr3t-t0ken").status_code == 200
        banner = server.lines[server.lines.index(f"Ephemera (development) is listening on {server.url}") :]
    data = tmp_path / "data"
    assert banner[1:5] == [
        f"  GraphiQL  {server.url}/graphql",
        f"  Database  {data / 'ephemera.db'}",
        f"  Media     {data / 'media'}",
        "Press Ctrl+C to stop.",
    ]
    assert server.returncode == 0
    assert any('"GET /healthz HTTP/1.1" 200' in line for line in server.lines), server.output.text
    assert "s3cr3t-t0ken" not in server.output.text
