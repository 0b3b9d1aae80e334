"""The npm packages some tests drive (graphql-http, the client suite, graphql-schema-linter), each
pinned by its folder's package-lock.json and installed on first use."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

from tests.services import unavailable


def installed(folder: Path, what: str, timeout: int = 600) -> Path:
    """`folder` with its node_modules, after `npm ci` if they are missing: once, even when several
    pytest-xdist workers ask at the same moment (they wait on a lock file). Skips without node and
    npm (fails under CI)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        unavailable(f"node and npm are needed for {what}")
    with (folder / ".npm-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "node_modules" / ".package-lock.json").exists():
            done = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=folder, timeout=timeout
            )
            if done.returncode != 0:
                unavailable(f"npm ci for {what} failed")
    return folder
