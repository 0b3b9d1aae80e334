"""The real `ephemera` process, as an operator starts it: run a command to its end, or serve until
stopped. `python -m commands` from the repository root is what `.venv/bin/ephemera` runs."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"listening on (http://[^\s\"]+)")
START_TIMEOUT = 60.0


def clean_env(**settings: str) -> dict[str, str]:
    """What a login shell has (PATH, HOME, locale) and the given settings, nothing from this process."""
    inherited = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    return {**inherited, "PYTHONUNBUFFERED": "1", **settings}


def ephemera(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "commands", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else ""


@dataclass
class Serving:
    process: subprocess.Popen[str]
    url: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def _read(serving: Serving, listening: threading.Event) -> None:
    assert serving.process.stdout is not None
    for line in serving.process.stdout:
        serving.lines.append(line.rstrip("\n"))
        found = LISTENING.search(line)
        if found and not listening.is_set():
            serving.url = found.group(1)
            listening.set()
    listening.set()  # the process ended: stop waiting


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[Serving]:
    """`ephemera serve` until its own "listening on" line; stopped with SIGINT (Ctrl+C) after."""
    process = subprocess.Popen(
        [sys.executable, "-m", "commands", "serve", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Serving(process)
    listening = threading.Event()
    reader = threading.Thread(target=_read, args=(server, listening), daemon=True)
    reader.start()
    try:
        listening.wait(START_TIMEOUT)
        if not server.url:
            raise AssertionError(f"the server did not start listening; it said:\n{server.output}")
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


def free_port() -> int:
    """A free loopback port whose neighbour 10,000 above is free too (Redis Cluster's bus port)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port + 10_000 > 65_535:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 10_000))
            except OSError:
                continue
        return port
