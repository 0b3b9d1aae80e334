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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"listening on (http://[^\s\"]+)")
START_TIMEOUT = 60.0


MACHINE = (
    "PATH",
    "HOME",
    "LANG",
    "TMPDIR",
    "PYENV_ROOT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
)


def clean_env(**settings: str) -> dict[str, str]:
    """What a login shell on this machine has (PATH, HOME, locale, pip's and TLS set-up, proxies)
    and the given settings: none of the app's settings leak in from the test run."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name in MACHINE or name.startswith("PIP_") or name.lower().endswith("_proxy")
    }
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


class Output:
    """A process's output, read line by line in a thread, so a test can wait for the process to say
    something (its own readiness line) with a deadline instead of sleeping."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._ended = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def wait_for(self, pattern: re.Pattern[str], timeout: float = START_TIMEOUT) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            return next((m for line in self.lines if (m := pattern.search(line))), None)

        with self._changed:
            self._changed.wait_for(lambda: self._ended or found() is not None, timeout)
            match = found()
        if match is None:
            raise AssertionError(f"never said {pattern.pattern!r}; it said:\n{self.text}")
        return match

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def close(self) -> None:
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextmanager
def running(
    command: list[str],
    ready: re.Pattern[str],
    timeout: float = START_TIMEOUT,
    stop: signal.Signals = signal.SIGINT,
    **options: Any,
) -> Iterator[tuple[Output, re.Match[str]]]:
    """Start `command` in a process group of its own, wait for its `ready` line, and stop it at the
    end as Ctrl+C in a terminal does (or an orchestrator, with `stop=SIGTERM`): the signal goes to
    the whole group (`make serve` and its server)."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        **options,
    )
    output = Output(process)
    try:
        yield output, output.wait_for(ready, timeout)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, stop)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        output.close()


@dataclass
class Serving:
    url: str
    output: Output

    @property
    def lines(self) -> list[str]:
        return self.output.lines

    @property
    def returncode(self) -> int | None:
        return self.output.process.returncode


@contextmanager
def serving(env: dict[str, str], stop: signal.Signals = signal.SIGINT) -> Iterator[Serving]:
    """`ephemera serve` until its own "listening on" line; stopped with `stop` (Ctrl+C) after."""
    command = [sys.executable, "-m", "commands", "serve"]
    with running(command, LISTENING, stop=stop, cwd=ROOT, env=env) as (output, listening):
        yield Serving(listening.group(1), output)


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
