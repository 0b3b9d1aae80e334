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
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from core.observability import configure_logging
from migrations.runner import head_revision, upgrade_to_head
from resolvers.media import sweep_abandoned_uploads
from resolvers.sweeper import sweep_expired_stories
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
    # Imported here: building the schema is the slow part of an import, and only serving needs it.
    from app import create_app
    from server.runner import serve as run_server

    sock = listening_socket(settings)  # first: a port in use is said before any slow work
    try:
        check_data_dir(settings)
        settings = settings.with_secret()
        for warning in production_warnings(settings):
            log.warning(warning)
        app = create_app(settings)
        run_server(app, settings, sock, on_started=lambda: announce(settings, sock))
    finally:
        sock.close()
    return 0


def announce(settings: Settings, sock: socket.socket) -> None:
    """Where the server listens and where its data lives: plain lines for a person, one log line
    for a machine."""
    host, port = sock.getsockname()[:2]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    if settings.json_logs:
        log.info("listening on %s", url)
        return
    db = make_url(settings.effective_database_url)
    database = (
        db.database if settings.is_sqlite else f"PostgreSQL {db.database} on {db.host}:{db.port or 5432}"
    )
    media = (
        f"S3 bucket {settings.s3_bucket}" if settings.s3_bucket else settings.data_dir.absolute() / "media"
    )
    lines = [
        f"Ephemera ({settings.env}) is listening on {url}",
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


COMMANDS: dict[str, Command] = {
    "serve": Command("start the server on HOST:PORT", serve),
    "migrate": Command("bring DATABASE_URL to the latest schema (the deploy step)", migrate),
    "demo": Command("fill the database with a demo world and print accounts to try", demo, demo_options),
    "sweep-stories": job(sweep_expired_stories, "delete expired stories' media after the retention window"),
    "sweep-uploads": job(sweep_abandoned_uploads, "delete abandoned (pending or failed) uploads"),
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
