"""Under CI a missing prerequisite fails the run instead of skipping the tests that need it, and
`.ci/run` sets CI=true itself. Each case runs the real thing (pytest, make, .ci/run) in a child
process whose PATH lacks the tool in question."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT

# What the recipes and pytest's children need, and nothing else on PATH.
BASICS = ("sh", "id", "tail", "rm", "echo", "env", "cat")


def bare_path(directory: Path, *tools: str) -> str:
    """A PATH of symlinks to the basics and `tools` only: chromium, apt-get, redis-server... absent."""
    directory.mkdir(exist_ok=True)
    for tool in (*BASICS, *tools):
        found = shutil.which(tool)
        if found and not (directory / tool).exists():
            (directory / tool).symlink_to(found)
    return str(directory)


def child_pytest(path: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CI", "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS")
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=ROOT,
        env=environment | {"PATH": path} | env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow  # a child pytest run takes 20-30 s on a busy machine
@pytest.mark.parametrize(
    ("test", "missing"),
    [
        ("tests/test_service_urls.py::test_redis_with_a_password[redis]", "redis-server is not installed"),
        ("tests/test_explorer.py::test_graphiql_runs_a_query_offline[sqlite]", "chromium"),
        ("tests/test_deploy.py::test_readme_deploy_section_on_a_fresh_clone", "make and git are needed"),
    ],
    ids=["redis-server", "chromium", "make-git"],
)
def test_a_missing_tool_skips_locally_and_fails_under_ci(tmp_path: Path, test: str, missing: str) -> None:
    path = bare_path(tmp_path / "bin", "openssl", "node", "npm")
    if (
        test.startswith("tests/test_explorer")
        and not (ROOT / "server/graphiql/node_modules/.installed").exists()
    ):
        pytest.skip("the GraphiQL assets are not built here: that test stops before it looks for chromium")

    local = child_pytest(path, test, "-rs")
    assert local.returncode == 0 and "1 skipped" in local.stdout and missing in local.stdout, local.stdout

    ci = child_pytest(path, test, CI="true")
    assert ci.returncode == 1 and ("1 failed" in ci.stdout or "1 error" in ci.stdout), ci.stdout
    assert missing in ci.stdout and "CI=true requires it" in ci.stdout


@pytest.mark.slow
def test_turning_redis_off_fails_under_ci(tmp_path: Path) -> None:
    test = "tests/test_service_urls.py::test_redis_without_a_password"
    path = os.environ.get("PATH", "")

    local = child_pytest(path, test, "-rs", TEST_REDIS_URL="skip")
    assert local.returncode == 0 and "1 skipped" in local.stdout, local.stdout

    ci = child_pytest(path, test, TEST_REDIS_URL="skip", CI="true")
    assert ci.returncode == 1 and "TEST_REDIS_URL=skip turns Redis off, but CI=true requires it" in ci.stdout


def test_the_browser_target_fails_loudly_under_ci_when_chromium_cannot_be_installed(tmp_path: Path) -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed (tests/test_deploy.py says so under CI)")
    path = bare_path(tmp_path / "bin")  # neither chromium nor apt-get
    run = [make, "--no-print-directory", "-f", str(ROOT / "Makefile"), "browser"]
    environment = {"PATH": path, "HOME": str(tmp_path)}

    local = subprocess.run(run, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60)
    assert local.returncode == 0 and "the browser test will be skipped" in local.stdout, local

    ci = subprocess.run(
        run, cwd=tmp_path, env=environment | {"CI": "true"}, capture_output=True, text=True, timeout=60
    )
    assert ci.returncode != 0, ci
    assert "chromium could not be installed, and CI=true requires it" in ci.stderr


def test_ci_run_sets_ci_itself(tmp_path: Path) -> None:
    """`.ci/run` from a shell without CI set: what it runs (`make test`, a stand-in here) sees CI=true."""
    fake = tmp_path / "bin"
    bare_path(fake, "bash", "dirname")
    (fake / "make").write_text('#!/bin/sh\necho "make $* with CI=$CI"\n')
    (fake / "make").chmod(0o755)

    ran = subprocess.run(
        [str(ROOT / ".ci/run")], env={"PATH": str(fake)}, capture_output=True, text=True, timeout=60
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "make test with CI=true"
