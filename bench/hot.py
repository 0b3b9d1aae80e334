"""The hot documents of issue #25 side by side in one run: each beside its SQL floor, the feed
beside PostGraphile 4 too, with the server's CPU per request measured from outside.

    python -m bench.generate --users 10000 --posts 200000 --threshold 1000 --database bench_ephemera
    python -m bench.hot --database bench_ephemera [--postgraphile] [--scenarios feed,profile]

One Ephemera process started as README says (`ephemera serve`, pull store, no Redis) and, with
--postgraphile, one PostGraphile process, both on loopback, driven by wrk (bench/wrk/cases.lua)
with real tokens and the scenario's own variables per request. Each floor is the same rows by one
asyncpg statement (bench/scenarios.py), timed by closed loops in this process. Before any timing,
every scenario's pages are checked identical to its floor's for --check requests (PostGraphile's
feed pages too). Per scenario the measurements interleave: floor, Ephemera, PostGraphile at 1
client, then the same at 32. CPU per request: the server process's (and its children's) utime +
stime from /proc/<pid>/stat before and after a run, over the requests wrk counted.
Prints one JSON object per measurement, then a table per scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import IO, Any

import asyncpg
import httpx

from bench import postgraphile
from bench.common import bench_url, closed_loop, dsn, load_average, processes_cpu, write_cases, wrk
from bench.request_path import start_server, wait_ready
from bench.scenarios import SCENARIOS, Case, Scenario, draw_cases

Post = Callable[[dict[str, Any], str], Awaitable[Any]]  # (body, token) -> the answer's JSON


def poster(http: httpx.AsyncClient) -> Post:
    async def post(body: dict[str, Any], token: str) -> Any:
        answer = await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
        return answer.json()

    return post


async def check(name: str, cases: list[Case], conn: asyncpg.Connection, post: Post) -> int:
    """The server's rows equal the floor's for each case (and are not all empty)."""
    scenario = SCENARIOS[name]
    rows_seen = 0
    for case in cases:
        expected = scenario.expected(await conn.fetch(scenario.floor_sql, *case.floor_args))
        answer = await post(scenario.body(case), scenario.token(case))
        if "errors" in answer:
            raise AssertionError(f"{name}: the server answered errors: {json.dumps(answer['errors'])[:500]}")
        served = scenario.served(answer["data"])
        if served != expected:
            raise AssertionError(f"{name} {case.variables}: server {served[:3]}... floor {expected[:3]}...")
        rows_seen += len(expected)
    if not rows_seen:
        raise AssertionError(f"{name}: every checked page is empty; is the world generated?")
    return len(cases)


async def check_postgraphile(cases: list[Case], conn: asyncpg.Connection, port: int) -> int:
    scenario = SCENARIOS["feed"]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        for case in cases:
            expected = scenario.expected(await conn.fetch(scenario.floor_sql, *case.floor_args))
            if await postgraphile.page(http, case) != expected:
                raise AssertionError(f"PostGraphile's feed page differs from the floor's for u{case.user}")
    return len(cases)


def floor_call(pool: asyncpg.Pool, scenario: Scenario, cases: list[Case]) -> Any:
    async def call(n: int) -> None:
        await pool.fetch(scenario.floor_sql, *cases[n % len(cases)].floor_args)

    return call


async def run(args: argparse.Namespace, log: IO[bytes]) -> list[dict[str, Any]]:
    names = args.scenarios.split(",")
    conn = await asyncpg.connect(dsn(bench_url(args.database)))
    cases = {name: await draw_cases(conn, name, args.cases, args.seed) for name in names}
    files = {name: write_cases([(s.token(c), s.body(c)) for c in cases[name]]) for name, s in _pick(names)}
    graphile_file = None
    if args.postgraphile and "feed" in names:
        await postgraphile.install_function(conn)
        graphile_file = write_cases([(None, postgraphile.body(c)) for c in cases["feed"]])
    # A tray page of 20 owners with all their stories is above the default cost (as in bench/tray.py).
    server = start_server(args, {"MAX_QUERY_COST": "100000"}, log)
    graphile = (
        postgraphile.start(dsn(bench_url(args.database)), args.graphile_port) if graphile_file else None
    )
    results: list[dict[str, Any]] = []
    try:
        await wait_ready(args.port, server)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{args.port}", timeout=60) as http:
            for name in names:
                checked = await check(name, cases[name][: args.check], conn, poster(http))
                print(json.dumps({"scenario": name, "pages_checked_identical": checked}), file=sys.stderr)
        if graphile is not None:
            await postgraphile.wait_ready(args.graphile_port, graphile)
            checked = await check_postgraphile(cases["feed"][: args.check], conn, args.graphile_port)
            print(json.dumps({"postgraphile_pages_checked_identical": checked}), file=sys.stderr)
        url = f"http://127.0.0.1:{args.port}"
        for name, scenario in _pick(names if not args.check_only else []):
            wrk(url, files[name], 4, args.warmup)  # caches, pool and documents warm
            if name == "feed" and graphile is not None:
                wrk(f"http://127.0.0.1:{args.graphile_port}", graphile_file or "", 4, args.warmup)
            for clients in (1, 32):
                database = DatabaseCpu(conn, args.database)
                # A pool per floor run, closed after it: PostgreSQL's connections are shared.
                async with asyncpg.create_pool(
                    dsn(bench_url(args.database)), min_size=clients, max_size=clients
                ) as pool:
                    await closed_loop(floor_call(pool, scenario, cases[name]), clients, 1)  # warm
                    floor = closed_loop(floor_call(pool, scenario, cases[name]), clients, args.duration)
                    results.append(_row(name, "sql-floor", await database.over(floor)))
                served = asyncio.to_thread(wrk, url, files[name], clients, args.duration, server.pid)
                results.append(_row(name, "ephemera", await database.over(served)))
                if name == "feed" and graphile is not None:
                    address = f"http://127.0.0.1:{args.graphile_port}"
                    other = asyncio.to_thread(
                        wrk, address, graphile_file or "", clients, args.duration, graphile.pid
                    )
                    results.append(_row(name, "postgraphile", await database.over(other)))
    finally:
        for process in (server, graphile):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        await conn.close()
        for path in [*files.values(), graphile_file]:
            if path:
                os.unlink(path)
    return results


class DatabaseCpu:
    """PostgreSQL's side of a measurement: the CPU of the bench database's client backends over
    it (those that connected meanwhile counted whole), per request."""

    def __init__(self, conn: asyncpg.Connection, database: str) -> None:
        self.conn, self.database = conn, database

    async def backends(self) -> dict[int, float]:
        rows = await self.conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'"
            " AND pid <> pg_backend_pid()",
            self.database,
        )
        return processes_cpu([row["pid"] for row in rows])

    async def over(self, measurement: Awaitable[dict[str, Any]]) -> dict[str, Any]:
        before = await self.backends()
        figures = await measurement
        after = await self.backends()
        spent = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
        figures["db_cpu_ms_per_request"] = round(spent * 1000 / max(figures["requests"], 1), 3)
        return figures


def _row(scenario: str, system: str, figures: dict[str, Any]) -> dict[str, Any]:
    row = {"scenario": scenario, "system": system, "load_average": round(load_average(), 2), **figures}
    print(json.dumps(row), flush=True)
    return row


def _pick(names: list[str]) -> list[tuple[str, Scenario]]:
    return [(name, SCENARIOS[name]) for name in names]


def table(results: list[dict[str, Any]]) -> str:
    """Markdown, a table per scenario: a row per system with p50/p99 at 1 client and its ratio to
    the floor's p50, req/s and p50/p99 at 32 clients, the server's and PostgreSQL's CPU per
    request, their sum over the floor's (PostgreSQL's alone), the load average."""
    lines = []
    for name in dict.fromkeys(r["scenario"] for r in results):
        rows = {(r["system"], r["clients"]): r for r in results if r["scenario"] == name}
        floor = rows[("sql-floor", 1)]
        lines += [
            f"\n`{name}`\n",
            "| system | 1 client p50 / p99 ms | p50 vs floor | 32 clients req/s | 32 clients p50 / p99 ms"
            " | server CPU ms/req (1 / 32) | PostgreSQL CPU ms/req (1 / 32) | CPU vs floor | cores busy at 32"
            " | load |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for system in ("sql-floor", "ephemera", "postgraphile"):
            if (system, 1) not in rows:
                continue
            one, many = rows[(system, 1)], rows[(system, 32)]
            cpu, busy = "-", "-"
            if "cpu_ms_per_request" in one:
                cpu = f"{one['cpu_ms_per_request']:.1f} / {many['cpu_ms_per_request']:.1f}"
                busy = f"{many['server_cores_busy']}"
            db = f"{one.get('db_cpu_ms_per_request', 0):.2f} / {many.get('db_cpu_ms_per_request', 0):.2f}"
            total = one.get("cpu_ms_per_request", 0) + one.get("db_cpu_ms_per_request", 0)
            floor_cpu = floor.get("db_cpu_ms_per_request")
            versus = f"{total / floor_cpu:.1f}x" if floor_cpu else "-"
            ratio = one["p50_ms"] / floor["p50_ms"]
            lines.append(
                f"| {system} | {_ms(one['p50_ms'])} / {_ms(one['p99_ms'])} | {ratio:.1f}x | {many['rps']:,}"
                f" | {_ms(many['p50_ms'])} / {_ms(many['p99_ms'])} | {cpu} | {db} | {versus}"
                f" | {busy} | {one['load_average']}-{many['load_average']} |"
            )
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "none finished" if value is None else f"{value:,}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="bench_ephemera")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated, of: " + ", ".join(SCENARIOS)
    )
    parser.add_argument("--postgraphile", action="store_true", help="PostGraphile 4 beside the feed")
    parser.add_argument("--cases", type=int, default=300, help="requests drawn per scenario, rotated")
    parser.add_argument("--check", type=int, default=20, help="pages checked identical per scenario")
    parser.add_argument("--check-only", action="store_true", help="check the pages, time nothing")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per scenario")
    parser.add_argument("--threshold", type=int, default=1_000, help="as given to bench.generate")
    parser.add_argument("--port", type=int, default=8079)
    parser.add_argument("--graphile-port", type=int, default=8089)
    parser.add_argument("--data-dir", default="/tmp/ephemera-bench-data")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--server-root", help="serve another checkout (a lever's before), not this one")
    parser.add_argument("--server-log", default="/tmp/ephemera-bench-hot-server.log", help="its stderr")
    args = parser.parse_args()
    with open(args.server_log, "ab") as log:
        results = asyncio.run(run(args, log))
    if results:
        print(table(results))


if __name__ == "__main__":
    main()
