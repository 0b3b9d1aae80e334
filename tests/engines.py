"""Private database engines started by tests on loopback: a PostgreSQL primary with a streaming
replica, and a three-node Redis Cluster. Each waits for its own readiness signal (pg_ctl -w, a
replica's replay position, CLUSTER INFO), never a sleep, and `close()` stops every process it
started and removes its folder, whatever state the test left them in.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.processes import free_port

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
DEADLINE = 30.0


def wait_until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Poll `condition` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def _as_postgres(*command: str, timeout: float = 60) -> str:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user when we are root."""
    argv = list(command)
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr or done.stdout}")
    return done.stdout


def postgres_available() -> str | None:
    """Why the private PostgreSQL engines cannot run here, or None when they can."""
    if not (POSTGRES_BIN / "initdb").exists():
        return f"no PostgreSQL binaries in {POSTGRES_BIN}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a `postgres` user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root without `runuser`"
    return None


@dataclass
class PostgresNode:
    data: Path
    port: int
    running: bool = False

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        log = str(self.data / "log")
        _as_postgres(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-l", log, "-w", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        if self.running:
            _as_postgres(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
            self.running = False

    def sql(self, statement: str) -> str:
        """One statement through psql; its output as plain text."""
        return _as_postgres(
            str(POSTGRES_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            "-d", "postgres", "-At", "-c", statement,
        ).strip()  # fmt: skip


@dataclass
class PostgresWithReplica:
    """A primary and one streaming replica made with initdb + pg_basebackup -R, in a temp folder."""

    root: Path
    primary: PostgresNode
    replica: PostgresNode

    @classmethod
    def start(cls) -> PostgresWithReplica:
        root = Path(tempfile.mkdtemp(prefix="ephemera-pg-"))
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        engines = cls(root, *(PostgresNode(root / name, free_port()) for name in ("primary", "replica")))
        try:
            engines._create()
        except BaseException:
            engines.close()
            raise
        return engines

    def _create(self) -> None:
        initdb = str(POSTGRES_BIN / "initdb")
        _as_postgres(initdb, "-D", str(self.primary.data), "-A", "trust", "-U", "postgres", "--no-sync")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "wal_level": "replica",
            "max_wal_senders": "4",
            "fsync": "off",
            "full_page_writes": "off",
            "shared_buffers": "32MB",
            "max_connections": "60",
        }
        self._configure(self.primary, settings)
        self.primary.start()
        _as_postgres(str(POSTGRES_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary.port),
                     "-U", "postgres", "-D", str(self.replica.data), "-R", "--no-sync")  # fmt: skip
        self._configure(self.replica, settings | {"hot_standby": "on"})
        self.replica.start()
        self.wait_caught_up()

    @staticmethod
    def _configure(node: PostgresNode, settings: dict[str, str]) -> None:
        lines = [f"{name} = {value}" for name, value in (settings | {"port": str(node.port)}).items()]
        with (node.data / "postgresql.conf").open("a") as conf:
            conf.write("\n" + "\n".join(lines) + "\n")

    def replay_position(self) -> str:
        return self.replica.sql("SELECT pg_last_wal_replay_lsn()")

    def wait_caught_up(self) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        target = self.primary.sql("SELECT pg_current_wal_lsn()")

        def caught_up() -> bool:
            return self.replica.sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t"

        wait_until(caught_up, f"the replica to replay up to {target}")

    def pause_replay(self) -> None:
        self.replica.sql("SELECT pg_wal_replay_pause()")
        state = "SELECT pg_get_wal_replay_pause_state()"
        wait_until(lambda: self.replica.sql(state) == "paused", "replay to pause")

    def resume_replay(self) -> None:
        self.replica.sql("SELECT pg_wal_replay_resume()")

    def close(self) -> None:
        for node in (self.replica, self.primary):
            with contextlib.suppress(Exception):
                node.stop("immediate")
            # A node a test started by hand and never told us about is still found by its pid file.
            if (node.data / "postmaster.pid").exists():
                with contextlib.suppress(Exception):
                    node.running = True
                    node.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def redis_cluster_available() -> str | None:
    for tool in ("redis-server", "redis-cli"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH"
    return None


def _redis_cli(*args: str) -> str:
    done = subprocess.run(["redis-cli", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"redis-cli {' '.join(args)} failed: {done.stderr or done.stdout}")
    return done.stdout


@dataclass
class RedisClusterNodes:
    """Three redis-server processes in cluster mode, each owning a third of the slots, no replicas."""

    root: Path
    ports: list[int]
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @classmethod
    def start(cls, nodes: int = 3) -> RedisClusterNodes:
        root = Path(tempfile.mkdtemp(prefix="ephemera-redis-cluster-"))
        cluster = cls(root, [free_port() for _ in range(nodes)])
        try:
            for port in cluster.ports:
                cluster.start_node(port)
            _redis_cli("--cluster", "create", *(f"127.0.0.1:{port}" for port in cluster.ports),
                       "--cluster-replicas", "0", "--cluster-yes")  # fmt: skip
            cluster.wait_ok()
        except BaseException:
            cluster.close()
            raise
        return cluster

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def start_node(self, port: int) -> None:
        """Start (or restart) one node; it keeps its slots in its own nodes.conf."""
        assert port not in self.processes, "already running"
        self.processes[port] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
             "--cluster-config-file", f"nodes-{port}.conf", "--cluster-node-timeout", "2000",
             "--dir", str(self.root), "--save", "", "--appendonly", "no", "--logfile", f"{port}.log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: self._answers(port), f"redis-server on port {port}")

    def stop_node(self, port: int) -> None:
        process = self.processes.pop(port)
        process.kill()
        process.wait(timeout=10)

    def _answers(self, port: int) -> bool:
        done = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
        return done.stdout.strip() == "PONG"

    def wait_ok(self) -> None:
        """Until every running node says the cluster is ok (all slots served)."""

        def ok() -> bool:
            states = [_redis_cli("-p", str(port), "cluster", "info") for port in self.processes]
            return all("cluster_state:ok" in state for state in states)

        wait_until(ok, "CLUSTER INFO to say cluster_state:ok on every node")

    def flush(self) -> None:
        for port in self.processes:
            _redis_cli("-p", str(port), "flushall")

    def close(self) -> None:
        for port in list(self.processes):
            with contextlib.suppress(Exception):
                self.stop_node(port)
        shutil.rmtree(self.root, ignore_errors=True)
