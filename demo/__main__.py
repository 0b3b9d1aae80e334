"""`python -m demo`: fill DATABASE_URL (default: the embedded SQLite in DATA_DIR) with the demo world."""

from __future__ import annotations

import asyncio
import logging
import sys
from urllib.parse import urlencode

from demo.run import DemoError, Report, run
from demo.world import PASSWORD
from settings import Settings, SettingsError


def describe(report: Report, settings: Settings) -> str:
    counts = ", ".join(f"{count} {name}" for name, count in report.counts.items())
    if report.created:
        head = f"Created the demo world: {counts}."
    else:
        head = f"The demo world is already there ({counts}); nothing was duplicated."
    if report.stories_refreshed:
        head += " Its stories had expired: shared new ones."
    lines = [head, "", f"Every demo account's password: {PASSWORD}", ""]
    width = max(len(c.username) for c in report.credentials)
    for credential in report.credentials:
        lines.append(f"  {credential.username:<{width}}  {credential.description}")
        lines.append(f"  {'':<{width}}  token: {credential.token}")
    first = report.credentials[0]
    explorer = f"{settings.base_url}/graphql?{urlencode({'token': first.token})}"
    lines += ["", f"Start the server (make run) and open GraphiQL as {first.username}:", f"  {explorer}"]
    return "\n".join(lines)


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
        settings.validate()
        report = asyncio.run(run(settings))
    except (SettingsError, DemoError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    print(describe(report, settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
