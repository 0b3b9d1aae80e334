"""Creating the demo world once, and signing its featured accounts in on every run."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from core.context import RequestContext, Services
from demo.content import share_posts, share_stories, start_conversations
from demo.people import Actors, DemoClock, build_graph, sign_up_people
from demo.world import EVERYONE, FEATURED, MARKER, PASSWORD
from models import Message, Post, Story, User
from resolvers.auth import log_in
from services import close_services, open_services
from settings import Settings


class DemoError(Exception):
    """The database holds part of a demo world: a run was interrupted."""


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
            .where(
                Story.author_id.in_(author_ids),
                Story.expires_at > services.clock.now(),
                Story.deleted_at.is_(None),
            )
        )
        return count or 0


async def _counts(services: Services) -> dict[str, int]:
    counts = {}
    async with services.db.read() as session:
        for name, model in (("users", User), ("posts", Post), ("stories", Story), ("messages", Message)):
            counts[name] = await session.scalar(select(func.count()).select_from(model)) or 0
    return counts


async def create_world(actors: Actors) -> None:
    await sign_up_people(actors, EVERYONE)
    await build_graph(actors)
    await share_posts(actors)
    await start_conversations(actors)
    await share_stories(actors)
    await actors.services.outbox.settle(actors.services)
    await sign_up_people(actors, [MARKER])


async def seed(services: Services, clock: DemoClock) -> Report:
    """Create the world unless its marker exists; stories are shared again once all have expired."""
    names = [p.username for p in (*EVERYONE, MARKER)]
    existing = await _user_ids(services, names)
    actors = Actors(services, clock, ids=dict(existing))
    created = refreshed = False
    if MARKER.username not in existing:
        if existing:
            raise DemoError(
                f"the database holds part of the demo world ({len(existing)} of its accounts) from an "
                "interrupted run; start again from an empty database"
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


async def run(settings: Settings) -> Report:
    clock = DemoClock()
    services = await open_services(settings.with_secret(), clock)
    try:
        return await seed(services, clock)
    finally:
        await close_services(services)
