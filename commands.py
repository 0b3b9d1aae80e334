"""The `ephemera` command: `ephemera serve`, `ephemera migrate`, `ephemera demo`, and one-shot jobs.

Installed into the virtualenv by `make install` (.venv/bin/ephemera); `python -m commands` is the
same from the repository root. Every command reads the environment as the server does. A mistake
in it ends the command with one line naming the setting and the fix, and exit status 2
(LOG_LEVEL=debug adds the traceback). Adding a command is one entry in COMMANDS.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.engine import make_url

from core.observability import configure_logging
from media.storage import StorageError
from migrations.runner import head_revision, upgrade_to_head
from resolvers.media.reconciliation import Reconciliation, reconcile_media
from resolvers.media.uploads import sweep_abandoned_uploads
from resolvers.safety.holds import release_report_holds
from resolvers.stories.sweeper import sweep_expired_stories
from server.workers import Link, Supervisor
from services import Job, close_services, open_services
from settings import Settings
from startup import (
    OPERATOR_ERRORS,
    StartupError,
    check_data_dir,
    database_problem,
    explained,
    listening_socket,
    production_warnings,
)

log = logging.getLogger("ephemera")


@dataclass(frozen=True)
class Command:
    help: str
    run: Callable[[argparse.Namespace, Settings], int]
    options: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def serve(args: argparse.Namespace, settings: Settings) -> int:
    if args.workers is not None:
        settings = replace(settings, web_concurrency=args.workers)
        settings.validate()
    sock = listening_socket(settings)  # first: a port in use is said before any slow work
    try:
        check_data_dir(settings)
        settings = settings.with_secret()  # before any worker starts: one key for all of them
        for warning in production_warnings(settings):
            log.warning(warning)
        if settings.web_concurrency == 1:
            serve_here(settings, sock, lambda: announce(settings, sock))
            return 0
        return Supervisor(settings, sock, serve_worker).run(on_started=lambda: announce(settings, sock))
    finally:
        sock.close()


def serve_here(settings: Settings, sock: socket.socket, on_started: Callable[[], None]) -> None:
    # Imported here: building the schema is the slow part of an import, and only serving needs it.
    from app import create_app
    from server.runner import serve as run_server

    run_server(create_app(settings), settings, sock, on_started=on_started)


def serve_worker(settings: Settings, sock: socket.socket, link: Link) -> None:
    """One of several workers (server/workers.py): what keeps it from starting is reported to the
    supervisor, which says it once, as one line, and exits with status 2."""
    configure_logging(logging.DEBUG if settings.debug else logging.INFO, json_lines=settings.json_logs)
    try:
        serve_here(settings, sock, link.ready)
    except OPERATOR_ERRORS as exc:
        if settings.debug:
            traceback.print_exc()
        link.failed(str(exc))
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass


def serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes on the one port (default: WEB_CONCURRENCY, else 1); more than one "
        "needs PostgreSQL and Redis",
    )


def announce(settings: Settings, sock: socket.socket) -> None:
    """Where the server listens and where its data lives: plain lines for a person, one log line
    for a machine."""
    host, port = sock.getsockname()[:2]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    workers = f" with {settings.web_concurrency} workers" if settings.web_concurrency > 1 else ""
    if settings.json_logs:
        log.info("listening on %s%s", url, workers)
        return
    db = make_url(settings.effective_database_url)
    database = (
        db.database if settings.is_sqlite else f"PostgreSQL {db.database} on {db.host}:{db.port or 5432}"
    )
    media = (
        f"S3 bucket {settings.s3_bucket}" if settings.s3_bucket else settings.data_dir.absolute() / "media"
    )
    lines = [
        f"Ephemera ({settings.env}) is listening on {url}{workers}",
        *([f"  GraphiQL  {url}/graphql"] if settings.graphiql_enabled else []),
        f"  Database  {database}",
        f"  Media     {media}",
        "Press Ctrl+C to stop.",
    ]
    print("\n".join(lines), flush=True)


def migrate(args: argparse.Namespace, settings: Settings) -> int:
    if settings.is_sqlite:
        check_data_dir(settings)
    with explained(database_problem, settings):
        asyncio.run(upgrade_to_head(settings.effective_database_url))
    print(f"The database is at the latest revision ({head_revision()}).")
    return 0


def demo(args: argparse.Namespace, settings: Settings) -> int:
    from demo.run import DemoError, describe, run

    check_data_dir(settings)
    try:
        report = asyncio.run(run(settings, force=args.force))
    except DemoError as exc:
        raise StartupError(f"demo: {exc}") from exc
    print(describe(report, settings))
    return 0


def demo_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force", action="store_true", help="also on a production database (ENV=production, other accounts)"
    )


async def run_job(function: Job, settings: Settings) -> int:
    """Run a periodic job once, until nothing is left; how many items it processed."""
    services = await open_services(settings.with_secret())
    try:
        done = await function(services)
        await services.outbox.settle(services)  # what the job left for after its commits
        return done
    finally:
        await close_services(services)


def job(function: Job, help: str) -> Command:
    """A periodic job as a command for cron: runs once and prints how many items it processed."""

    def run_once(args: argparse.Namespace, settings: Settings) -> int:
        done = asyncio.run(run_job(function, settings))
        print(f"{args.command}: {done} processed")
        return 0

    return Command(help, run_once)


def reconcile(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> Reconciliation:
        services = await open_services(settings.with_secret())
        try:
            return await reconcile_media(services, delete=args.delete, min_age_seconds=args.min_age)
        finally:
            await close_services(services)

    try:
        report = asyncio.run(run())
    except StorageError as exc:
        raise StartupError(
            f"reconcile-media: object storage failed ({exc}); orphans already deleted stay deleted, "
            "nothing else changed: run it again once storage answers"
        ) from exc
    print(describe_reconciliation(report, deleting=args.delete, min_age=args.min_age))
    return 0


def describe_reconciliation(report: Reconciliation, *, deleting: bool, min_age: float) -> str:
    orphans = ", ".join(report.orphan_keys) + (" ..." if report.orphaned > len(report.orphan_keys) else "")
    missing = ", ".join(map(str, report.missing_media))
    lines = [
        f"objects listed: {report.objects}",
        f"orphaned objects (no media row): {report.orphaned} ({report.orphaned_bytes} bytes)"
        + (f": {orphans}" if report.orphaned else ""),
        f"deleted: {report.deleted}" if deleting else "deleted: 0 (run with --delete to delete the orphans)",
        f"too recent to judge (younger than {min_age:g} s): {report.recent}",
        f"ready media rows checked: {report.rows}",
        f"missing objects (named by a row, not in storage): {report.missing}"
        + (f", media ids {missing}" if report.missing else ""),
    ]
    return "\n".join(lines)


def reconcile_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--delete", action="store_true", help="delete the orphaned objects it finds")
    parser.add_argument(
        "--min-age",
        type=float,
        default=3600,
        metavar="SECONDS",
        help="leave objects younger than this alone: uploads in flight (default 3600)",
    )


def moderator(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.safety.moderation import audit_log, set_moderator

    async def run() -> int:
        services = await open_services(settings.with_secret())
        try:
            if args.action == "log":
                for entry in reversed(await audit_log(services, args.limit)):
                    note = f" note={entry.note!r}" if entry.note else ""
                    print(
                        f"{entry.created_at.isoformat()} {entry.action} by={entry.moderator_id} "
                        f"report={entry.report_id} user={entry.subject_user_id}{note}"
                    )
                return 0
            if not args.username:
                raise StartupError(f"moderator {args.action}: name the account (USERNAME)")
            if not await set_moderator(services, args.username, args.action == "add"):
                raise StartupError(f"moderator {args.action}: no account is named {args.username!r}")
            print(f"{args.username}: {'a moderator' if args.action == 'add' else 'no longer a moderator'}")
            return 0
        finally:
            await close_services(services)

    return asyncio.run(run())


def moderator_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", choices=["add", "remove", "log"], help="appoint, dismiss, or print the audit log"
    )
    parser.add_argument("username", nargs="?", help="the account (add and remove)")
    parser.add_argument(
        "--limit", type=int, default=50, help="log: how many of the newest entries (default 50)"
    )


COMMANDS: dict[str, Command] = {
    "serve": Command("start the server on HOST:PORT", serve, serve_options),
    "migrate": Command("bring DATABASE_URL to the latest schema (the deploy step)", migrate),
    "demo": Command("fill the database with a demo world and print accounts to try", demo, demo_options),
    "sweep-stories": job(sweep_expired_stories, "delete expired stories' media after the retention window"),
    "sweep-uploads": job(sweep_abandoned_uploads, "delete abandoned (pending or failed) uploads"),
    "sweep-reports": job(
        release_report_holds,
        "empty closed reports' evidence past REPORT_RETENTION_SECONDS, delete what it held",
    ),
    "moderator": Command(
        "appoint (add) or dismiss (remove) a moderator by username, or print the audit log (log)",
        moderator,
        moderator_options,
    ),
    "reconcile-media": Command(
        "count objects with no media row and rows whose objects are missing (--delete: the orphans go)",
        reconcile,
        reconcile_options,
    ),
}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="ephemera",
        description="Ephemera's GraphQL server and its operations; settings come from the environment.",
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.options(commands.add_parser(name, help=command.help, description=command.help))
    return root


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage
        return exc.code if isinstance(exc.code, int) else 2
    debug = False
    try:
        settings = Settings.from_env()
        settings.validate()
        debug = settings.debug
        configure_logging(logging.DEBUG if debug else logging.INFO, json_lines=settings.json_logs)
        return COMMANDS[args.command].run(args, settings)
    except OPERATOR_ERRORS as exc:
        if debug:
            traceback.print_exc()
        print(f"ephemera: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
