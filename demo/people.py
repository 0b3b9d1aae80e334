"""The demo's actors and their social graph, made through the same domain functions as the API."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from core.context import RequestContext, Services, Viewer
from demo import images
from demo.world import EVERYONE, FEATURED, OTHERS, PASSWORD, Person
from models import CloseFriend, Contact, StoryHide
from resolvers.accounts.profile import ProfileChanges, update_profile
from resolvers.accounts.signup import sign_up
from resolvers.graph import actions as graph
from resolvers.media.uploads import create_upload

T = TypeVar("T")


class DemoClock:
    """Real time, or a moment in the past while `at` is active: the world gets a believable history."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) - self._offset

    async def sleep_until(self, moment: datetime) -> None:
        await asyncio.sleep(max(0.0, (moment - self.now()).total_seconds()))

    @contextmanager
    def ago(self, offset: timedelta) -> Iterator[None]:
        previous, self._offset = self._offset, max(offset, timedelta(0))
        try:
            yield
        finally:
            self._offset = previous


@dataclass
class Actors:
    """Everyone's id, who follows whom (accepted), and a request context per user."""

    services: Services
    clock: DemoClock
    ids: dict[str, int] = field(default_factory=dict)
    following: dict[str, set[str]] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(2024))

    def as_user(self, username: str) -> RequestContext:
        # The rate limits key on the client address: each actor gets their own, as separate phones would.
        return RequestContext(self.services, Viewer(self.ids[username], 0), client_addr=f"demo:{username}")

    def followers(self, username: str) -> list[str]:
        return sorted(name for name, followees in self.following.items() if username in followees)

    async def upload(self, username: str, purpose: str, data: bytes) -> int:
        """As a client does: ask for an upload, put the bytes at its key; attaching verifies them."""
        media, _target = await create_upload(self.as_user(username), "image/jpeg", len(data), purpose)
        await self.services.storage.put(media.storage_key, data, "image/jpeg")
        return media.id


async def gather_limited(jobs: Iterable[Callable[[], Awaitable[T]]], limit: int = 4) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return await asyncio.gather(*(run(job) for job in jobs))


async def sign_up_people(actors: Actors, people: Iterable[Person]) -> None:
    """Accounts with avatars, bios and privacy; hashing passwords is the slow part, so a few at once."""

    async def one(person: Person) -> None:
        ctx = RequestContext(actors.services, client_addr=f"demo:{person.username}")
        session = await sign_up(ctx, person.username, PASSWORD, person.display_name)
        actors.ids[person.username] = session.user.id
        actors.following.setdefault(person.username, set())
        data = await asyncio.to_thread(images.avatar, person.username, person.initials)
        avatar = await actors.upload(person.username, "AVATAR", data)
        changes = ProfileChanges(bio=person.bio, is_private=person.private, avatar_media_id=avatar)
        await update_profile(actors.as_user(person.username), changes)

    await gather_limited([lambda p=p: one(p) for p in people])  # type: ignore[misc]


async def follow(actors: Actors, follower: str, followee: str, approve: bool = True) -> None:
    """A follow; for a private account a request, approved unless `approve` is False."""
    await graph.follow(actors.as_user(follower), actors.ids[followee])
    person = next(p for p in EVERYONE if p.username == followee)
    if person.private:
        if not approve:
            return
        await graph.approve_follow_request(actors.as_user(followee), actors.ids[follower])
    actors.following[follower].add(followee)


async def edge(
    actors: Actors, model: type[CloseFriend | Contact | StoryHide], owner: str, other: str
) -> None:
    await graph.set_edge(actors.as_user(owner), model, actors.ids[other], True)


async def follow_widely(actors: Actors) -> None:
    """The printed accounts follow most of the world, and carol has followers of her own, so their
    home feeds, trays and activity are full: almost every post is in some printed account's feed."""
    rng = actors.rng
    alice, bob, carol = (p.username for p in FEATURED)
    others = [p.username for p in OTHERS if p.username != "spam.deals"]
    for name in others:
        await follow(actors, alice, name, approve=name != "ravi.bikes")  # one request still pending
    for name in rng.sample(others, 16):
        await follow(actors, bob, name)
    for name in rng.sample(others, 12):
        await follow(actors, carol, name)
    for name in rng.sample([n for n in others if n != "dave"], 8):  # dave's request stays pending
        await follow(actors, name, carol)


async def build_graph(actors: Actors) -> None:
    rng = actors.rng
    alice, bob, carol = (p.username for p in FEATURED)
    # The featured accounts show every relationship a client renders.
    await follow(actors, alice, bob)
    await follow(actors, bob, alice)
    await follow(actors, alice, carol)
    await follow(actors, carol, alice)
    await follow(actors, bob, carol, approve=False)  # carol has a request waiting
    await follow(actors, "dave", carol, approve=False)
    for owner, other in ((alice, bob), (bob, alice), (carol, alice)):
        await edge(actors, CloseFriend, owner, other)
    for one, two in ((alice, bob), (alice, carol)):
        await edge(actors, Contact, one, two)
        await edge(actors, Contact, two, one)
    await edge(actors, Contact, bob, "dave")  # one-sided: not mutual, so no CONTACTS stories
    await edge(actors, StoryHide, alice, "dave")
    await follow_widely(actors)

    names = [p.username for p in EVERYONE]
    plans: dict[str, list[tuple[str, bool]]] = {}
    for name in names:
        if name in (alice, bob, carol):
            continue
        picks = rng.sample([n for n in names if n not in (name, carol)], rng.randint(5, 9))
        picks += [star for star, chance in ((alice, 0.7), (bob, 0.5)) if rng.random() < chance]
        plans[name] = [(other, rng.random() < 0.85) for other in dict.fromkeys(picks)]

    async def follow_all(name: str) -> None:
        for other, approve in plans[name]:
            await follow(actors, name, other, approve)

    # Each account's follows in order, several accounts at once: a database round trip is the cost.
    await gather_limited([lambda n=n: follow_all(n) for n in plans])  # type: ignore[misc]
    for name in names:
        followers = actors.followers(name)
        for friend in rng.sample(followers, min(len(followers), rng.randint(1, 3))):
            await edge(actors, CloseFriend, name, friend)
    for _ in range(15):
        one, two = rng.sample(names, 2)
        await edge(actors, Contact, one, two)
        await edge(actors, Contact, two, one)
    # A spammy account everyone would block; blocking ends follows both ways.
    for name in (alice, "mira.photos", "liam.codes"):
        await graph.block(actors.as_user(name), actors.ids["spam.deals"])
        actors.following[name].discard("spam.deals")
        actors.following["spam.deals"].discard(name)
