"""README's deploy section, followed literally on a fresh clone: its commands, in its order, up to a
production-mode server on PostgreSQL, Redis and S3 (moto here) that answers /readyz."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import FAKE_AWS_ENV
from tests.processes import LISTENING, ROOT, clean_env, free_port, running
from tests.services import PostgresDatabase, postgres_admin_url, unavailable

pytestmark = pytest.mark.slow

INSTALL_TIMEOUT = 900.0


def deploy_commands() -> list[str]:
    """The shell lines of README's "Deploying on PostgreSQL" block, continuations joined."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploying on PostgreSQL", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README's deploy section has no ```sh block"
    joined = block.group(1).replace("\\\n", " ")
    return [line.split("  #", 1)[0].strip() for line in joined.splitlines() if line.strip()]


def exported(line: str) -> dict[str, str]:
    words = shlex.split(line)
    assert words[0] == "export"
    return dict(word.split("=", 1) for word in words[1:])


def fresh_clone(destination: Path) -> Path:
    """`git clone` of this repository, with the working tree's uncommitted changes laid over it."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(destination)], check=True)

    def listed(*options: str) -> list[str]:
        found = subprocess.run(
            ["git", "ls-files", "-z", *options], cwd=ROOT, check=True, capture_output=True, text=True
        )
        return [name for name in found.stdout.split("\0") if name]

    for name in listed("--modified", "--others", "--exclude-standard"):
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    for name in listed("--deleted"):
        (destination / name).unlink(missing_ok=True)
    return destination


@pytest.fixture(scope="session")
def make_and_git() -> None:
    """Checked before the services are set up (session fixtures come first)."""
    if shutil.which("make") is None or shutil.which("git") is None:
        unavailable("make and git are needed to follow README")


@pytest.fixture
def empty_database(postgres_database: str) -> Iterator[str]:
    admin = postgres_admin_url()
    assert admin is not None
    database = PostgresDatabase.create(admin)
    try:
        yield make_url(database.url).set(drivername="postgres").render_as_string(hide_password=False)
    finally:
        database.drop()


@pytest.fixture
def bucket(moto_s3: str) -> str:
    name = f"ephemera-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=moto_s3,
        aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=FAKE_AWS_ENV["AWS_DEFAULT_REGION"],
    )
    client.create_bucket(Bucket=name)
    client.close()
    return name


def test_readme_deploy_section_on_a_fresh_clone(
    make_and_git: None, tmp_path: Path, empty_database: str, redis_required: str, moto_s3: str, bucket: str
) -> None:
    clone = fresh_clone(tmp_path / "ephemera")
    commands = deploy_commands()
    assert commands[-1] == "make serve", commands

    # This machine's values for what README leaves to the reader ("...", db, cache, port 8000).
    ours = {
        "SECRET_KEY": "a-long-random-secret-for-the-deploy-test",
        "METRICS_PORT": str(free_port()),
        "PORT": str(free_port()),
        "DATABASE_URL": empty_database,
        "REDIS_URL": redis_required,
        "S3_BUCKET": bucket,
        "AWS_ACCESS_KEY_ID": FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
    }
    # Where "S3" is on this machine: moto, without reading any AWS configuration file.
    s3_here = {name: value for name, value in FAKE_AWS_ENV.items() if not name.startswith("AWS_ACCESS")}
    env = clean_env(S3_ENDPOINT_URL=moto_s3, **s3_here)
    for line in commands[:-1]:
        if line.startswith("export "):
            given = exported(line)
            assert set(given) <= {"ENV", "HOST", *ours}, (
                f"README exports something this test cannot supply: {line}"
            )
            env |= {name: ours.get(name, value) for name, value in given.items()}
            continue
        done = subprocess.run(
            ["bash", "-c", line], cwd=clone, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT
        )
        assert done.returncode == 0, f"`{line}` failed:\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr and "BuildBackendWarning" not in done.stderr, done.stderr
    assert env["ENV"] == "production"

    with running(["bash", "-c", commands[-1]], LISTENING, cwd=clone, env=env) as (output, listening):
        port = listening.group(1).rsplit(":", 1)[1]
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    assert "Traceback" not in output.text, output.text
