"""One-shot maintenance commands for cron: `python -m commands sweep-stories`.

Each opens the same services as the server (from the environment), runs one job until
nothing is left, prints how many items it processed, and exits.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from resolvers.media import sweep_abandoned_uploads
from resolvers.sweeper import sweep_expired_stories
from services import Job, close_services, open_services
from settings import Settings, SettingsError

COMMANDS: dict[str, Job] = {
    "sweep-stories": sweep_expired_stories,
    "sweep-uploads": sweep_abandoned_uploads,
}


async def run(name: str, settings: Settings) -> int:
    services = await open_services(settings.with_secret())
    try:
        done = await COMMANDS[name](services)
        await services.outbox.settle(services)  # what the job left for after its commits
        return done
    finally:
        await close_services(services)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in COMMANDS:
        print(f"usage: python -m commands {{{'|'.join(COMMANDS)}}}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        done = asyncio.run(run(argv[0], Settings.from_env()))
    except SettingsError as exc:
        print(f"ephemera: {exc}", file=sys.stderr)
        return 2
    print(f"{argv[0]}: {done} processed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
