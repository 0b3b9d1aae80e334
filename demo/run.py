"""Creating the demo world once, and signing its featured accounts in on every run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import func, select

from core.context import RequestContext, Services
from demo.content import keep_stories, share_posts, share_stories, start_conversations
from demo.people import Actors, DemoClock, build_graph, sign_up_people
from demo.world import EVERYONE, FEATURED, MARKER, PASSWORD
from models import Comment, Highlight, Message, Post, Story, User
from resolvers.accounts.auth import log_in
from resolvers.stories.rules import live
from services import close_services, open_services
from settings import Settings


class DemoError(Exception):
    """The demo will not run on this database: some of its accounts without its world (an
    interrupted run, or accounts signed up by hand), or one that looks like production."""


@dataclass(frozen=True)
class Credential:
    username: str
    description: str
    token: str


@dataclass(frozen=True)
class Report:
    created: bool
    stories_refreshed: bool
    counts: dict[str, int]
    credentials: list[Credential]


async def _user_ids(services: Services, usernames: list[str]) -> dict[str, int]:
    async with services.db.read() as session:
        rows = await session.execute(select(User.username, User.id).where(User.username.in_(usernames)))
        return {name: user_id for name, user_id in rows}


async def _live_stories(services: Services, author_ids: list[int]) -> int:
    async with services.db.read() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Story)
            .where(Story.author_id.in_(author_ids), live(services.clock.now()))
        )
        return count or 0


async def _counts(services: Services) -> dict[str, int]:
    counts = {}
    async with services.db.read() as session:
        tables = (
            ("users", User),
            ("posts", Post),
            ("comments", Comment),
            ("stories", Story),
            ("highlights", Highlight),
            ("messages", Message),
        )
        for name, model in tables:
            counts[name] = await session.scalar(select(func.count()).select_from(model)) or 0
    return counts


async def create_world(actors: Actors) -> None:
    await sign_up_people(actors, EVERYONE)
    with actors.clock.ago(timedelta(days=7)):  # everyone met before the first post
        await build_graph(actors)
    await share_posts(actors)
    await start_conversations(actors)
    await keep_stories(actors)
    await share_stories(actors)
    await actors.services.outbox.settle(actors.services)
    await sign_up_people(actors, [MARKER])


async def _other_accounts(services: Services, names: list[str]) -> int:
    async with services.db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(User).where(User.username.not_in(names))
        )
        return count or 0


def refuse_production(settings: Settings) -> None:
    if settings.is_production:
        raise DemoError(
            "ENV=production: the demo adds accounts whose password is published; "
            "run `.venv/bin/ephemera demo --force` if this database really is for trying things out"
        )


async def refuse_other_accounts(services: Services, names: list[str]) -> None:
    """A database with accounts of its own is someone's: the demo's shared password stays out of it."""
    others = await _other_accounts(services, names)
    if others:
        raise DemoError(
            f"the database already holds {others} account(s) that are not the demo's: is it a production "
            "database? Point DATABASE_URL at another one, or add the demo anyway with "
            "`.venv/bin/ephemera demo --force`"
        )


async def seed(services: Services, clock: DemoClock, force: bool = False) -> Report:
    """Create the world unless its marker exists; stories are shared again once all have expired."""
    names = [p.username for p in (*EVERYONE, MARKER)]
    existing = await _user_ids(services, names)
    if MARKER.username not in existing and not force:
        await refuse_other_accounts(services, names)
    actors = Actors(services, clock, ids=dict(existing))
    created = refreshed = False
    if MARKER.username not in existing:
        if existing:
            taken = ", ".join(sorted(existing)[:3])
            raise DemoError(
                f"the database holds {len(existing)} of the demo's accounts ({taken}) but not its world: "
                "from an interrupted run, or signed up by hand. Start again from an empty database: "
                "stop the server, delete the SQLite file (DATA_DIR/ephemera.db, by default "
                "data/ephemera.db) or recreate DATABASE_URL's database (then `make migrate`), and run "
                "`make demo` again"
            )
        await create_world(actors)
        created = True
    elif await _live_stories(services, list(existing.values())) == 0:
        await share_stories(actors)
        refreshed = True
    credentials = []
    for person in FEATURED:
        session = await log_in(RequestContext(services, client_addr="demo"), person.username, PASSWORD)
        kind = "private account" if person.private else "public account"
        credentials.append(Credential(person.username, kind, session.token))
    return Report(created, refreshed, await _counts(services), credentials)


async def run(settings: Settings, force: bool = False) -> Report:
    if not force:
        refuse_production(settings)
    clock = DemoClock()
    services = await open_services(settings.with_secret(), clock)
    try:
        return await seed(services, clock, force)
    finally:
        await close_services(services)


def describe(report: Report, settings: Settings) -> str:
    """What a run prints: what it made, the password, a token per featured account, a GraphiQL link."""
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
    # In the fragment, the token never reaches the server, so no access log holds it.
    explorer = f"{settings.base_url}/graphql#{urlencode({'token': first.token})}"
    lines += ["", f"Start the server (make run) and open GraphiQL as {first.username}:", f"  {explorer}"]
    return "\n".join(lines)
