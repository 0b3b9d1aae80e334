"""What the benchmark scripts share: where PostgreSQL is, a fresh migrated database, the generated
users' tokens, closed-loop and wrk measurements, and a process's CPU time read from /proc."""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from migrations.runner import upgrade_to_head

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def bench_url(database: str) -> str:
    return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def dsn(url: str) -> str:
    """asyncpg wants postgresql://, SQLAlchemy postgresql+asyncpg://."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def token_for(user_index: int) -> str:
    return f"eph_bench_{user_index:08d}"


async def fresh_database(name: str) -> asyncpg.Connection:
    """Drop and recreate `name`, migrate it to head, and connect to it."""
    admin = await asyncpg.connect(dsn(ADMIN_URL))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    await upgrade_to_head(bench_url(name))
    return await asyncpg.connect(dsn(bench_url(name)))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def closed_loop(
    call: Callable[[int], Awaitable[object]], clients: int, seconds: float
) -> dict[str, Any]:
    """`clients` loops calling `call(n)` back to back for `seconds` (n counts each loop's calls)."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        n = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await call(n)
            latencies.append(time.perf_counter() - started)
            n += clients

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "requests": len(latencies),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process `pid` and its live descendants, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            # Fields 14 and 15 of stat (utime, stime); the split dropped the first two.
            total += (int(stats[current][11]) + int(stats[current][12])) / tick
        todo += children.get(current, [])
    return total


def processes_cpu(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each of `pids` still alive (not their children)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / tick
    return found


def wrk(url: str, cases_file: str, clients: int, seconds: int, pid: int | None = None) -> dict[str, Any]:
    """wrk posting the requests of `cases_file` (bench/wrk/cases.lua) in turn; with `pid`, the CPU
    that process (and its children) spent per request, measured from outside."""
    command = [
        "wrk",
        f"-t{min(clients, 2)}",
        f"-c{clients}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "60s",
    ]
    command += ["-s", str(ROOT / "bench/wrk/cases.lua"), url, "--", cases_file]
    cpu_before = cpu_seconds(pid) if pid else 0.0
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr[-1000:]}")
    output = finished.stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    result: dict[str, Any] = {
        "clients": clients,
        # No request finished within the run: no latency to report (wrk prints zeros).
        "p50_ms": wrk_latency(output, "50%") if requests else None,
        "p99_ms": wrk_latency(output, "99%") if requests else None,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        # With the one in flight on each connection at the end, which the server still serves.
        "requests": requests + clients,
    }
    if re.search(r"Non-2xx|Socket errors", output):
        raise RuntimeError(f"wrk saw failed requests:\n{output}")
    if pid:
        # wrk stops with a request in flight on each connection; the server finishes them (and
        # spends their CPU) after wrk has counted: wait until it is idle and count them too.
        cpu = settled_cpu_seconds(pid) - cpu_before
        served = result["requests"]
        result["cpu_ms_per_request"] = round(cpu * 1000 / served, 3)
        result["cpu_limited_rps"] = round(served / cpu, 1) if cpu else None
        result["server_cores_busy"] = round(cpu / seconds, 2)
    return result


def settled_cpu_seconds(pid: int, timeout: float = 120.0) -> float:
    """`cpu_seconds(pid)` once the process has spent under 1% of a core for half a second."""
    deadline = time.monotonic() + timeout
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - last < 0.005:
            return now
        last = now
    return last


def wrk_latency(output: str, label: str) -> float:
    match = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)", output)
    assert match is not None, output
    value, unit = float(match.group(1)), match.group(2)
    return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2)


def write_cases(bodies: list[tuple[str | None, dict[str, Any]]]) -> str:
    """A file for bench/wrk/cases.lua: one request a line, `token<TAB>JSON body` ('-': anonymous)."""
    with tempfile.NamedTemporaryFile("w", suffix=".cases", delete=False) as file:
        for token, body in bodies:
            file.write(f"{token or '-'}\t{json.dumps(body)}\n")
    return file.name


async def wait_http(url: str, process: subprocess.Popen[bytes]) -> None:
    """Until `url` answers 200 (or the process ends: an error)."""
    async with httpx.AsyncClient() as client:
        for _ in range(1200):
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} stopped during start-up")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def load_average() -> float:
    return os.getloadavg()[0]
