"""The sweeper: purges media of stories past expiry plus retention, once each, on S3 (moto) and local disk."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

import commands
from models import Media, Story, StoryEvent
from resolvers.stories.sweeper import sweep_expired_stories
from tests.harness import Api, TestUser
from tests.story_helpers import (
    bulk_archive,
    bulk_highlight,
    bulk_stories,
    bulk_users,
    create_highlight,
    create_story,
    db_id,
    set_archive,
)

STORY_MEDIA = "query($id: ID!) { node(id: $id) { ... on Story { media { id } } } }"
PAST_RETENTION = 86_400 + 3_600 + 1


async def test_sweeper_waits_for_retention_then_deletes_media_once(api: Api) -> None:
    alice = await api.sign_up()
    story = await create_story(api, alice)  # a real upload: original plus resized variants
    media_id = db_id((await api.gql(STORY_MEDIA, {"id": story}, alice.token))["node"]["media"]["id"])
    async with api.services.db.read() as session:
        media = await session.get(Media, media_id)
    assert media is not None
    keys = [media.storage_key, *(v["key"] for v in media.variants)]
    assert len(keys) > 1
    storage = api.services.storage

    api.clock.advance(86_400 + 3_600 - 1)  # expired, but still inside the retention window
    assert await sweep_expired_stories(api.services) == 0
    assert all([await storage.head(key) for key in keys])

    api.clock.advance(2)
    assert await sweep_expired_stories(api.services) == 1
    assert await sweep_expired_stories(api.services) == 0
    await api.services.outbox.settle(api.services)  # the objects go after the commit

    assert [await storage.head(key) for key in keys] == [None] * len(keys)
    async with api.services.db.read() as session:
        row = await session.get(Story, db_id(story))
        assert row is not None and row.media_id is None and row.deleted_at == api.clock.now()
        assert await session.get(Media, media_id) is None
        events = list(await session.scalars(select(StoryEvent.kind).where(StoryEvent.story_id == row.id)))
    assert events == ["story_expired"]


async def test_two_sweepers_at_once_sweep_each_story_once(api: Api) -> None:
    authors = await bulk_users(api, 40, prefix="sweep")
    old = api.clock.now() - timedelta(days=3)
    expired = await bulk_stories(api, authors, created_at=old)
    live = await bulk_stories(api, authors[:5])

    counts = await asyncio.gather(
        sweep_expired_stories(api.services, batch=3), sweep_expired_stories(api.services, batch=3)
    )

    assert sum(counts) == len(expired)
    async with api.services.db.read() as session:
        swept = Counter(
            await session.scalars(select(StoryEvent.story_id).where(StoryEvent.kind == "story_expired"))
        )
        remaining = await session.scalar(select(func.count()).select_from(Media))
        still_live = list(await session.scalars(select(Story.id).where(Story.media_id.is_not(None))))
    assert swept == Counter(expired)
    assert remaining == len(live) and sorted(still_live) == sorted(live)


async def test_the_one_shot_command_sweeps(api: Api) -> None:
    # The command runs on the real clock, like cron: these stories expired two days ago.
    authors = await bulk_users(api, 3, prefix="cron")
    await bulk_stories(api, authors, created_at=datetime.now(UTC) - timedelta(days=3))
    settings = replace(api.app.state.settings, migrate_on_start=False)
    assert await commands.run_job(sweep_expired_stories, settings) == 3
    assert await commands.run_job(sweep_expired_stories, settings) == 0
    assert commands.main(["no-such-command"]) == 2


async def story_objects(api: Api, user: TestUser) -> tuple[str, list[str]]:
    """A story from a real upload, and the storage keys of its original and every rendition."""
    story = await create_story(api, user)
    media_id = db_id((await api.gql(STORY_MEDIA, {"id": story}, user.token))["node"]["media"]["id"])
    async with api.services.db.read() as session:
        media = await session.get(Media, media_id)
    assert media is not None and media.variants
    return story, [media.storage_key, *(v["key"] for v in media.variants)]


async def test_the_sweeper_deletes_exactly_the_media_nobody_kept(api: Api) -> None:
    archivist, curator, nobody = await api.sign_up(), await api.sign_up(), await api.sign_up()
    await set_archive(api, archivist, True)
    archived, archived_keys = await story_objects(api, archivist)
    twice, twice_keys = await story_objects(api, curator)  # in two highlights
    once, once_keys = await story_objects(api, curator)
    dropped, dropped_keys = await story_objects(api, curator)  # expires in no highlight
    plain, plain_keys = await story_objects(api, nobody)
    trips = await create_highlight(api, curator, [twice, once], "Trips")
    best = await create_highlight(api, curator, [twice], "Best")
    storage = api.services.storage

    async def present(keys: list[str]) -> bool:
        found = [await storage.head(key) is not None for key in keys]
        assert all(found) or not any(found), keys  # an original and its renditions go together
        return all(found)

    async def sweep() -> int:
        swept = await sweep_expired_stories(api.services, batch=2)
        await api.services.outbox.settle(api.services)  # the objects go after the commit
        return swept

    api.clock.advance(PAST_RETENTION)
    assert await sweep() == 2
    assert [await present(k) for k in (archived_keys, twice_keys, once_keys, dropped_keys, plain_keys)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    for kept, author in ((archived, archivist), (twice, curator), (once, curator)):
        assert (await api.gql(STORY_MEDIA, {"id": kept}, author.token))["node"]["media"]
    for gone, author in ((dropped, curator), (plain, nobody)):
        assert (await api.gql(STORY_MEDIA, {"id": gone}, author.token))["node"] is None

    remove = "mutation($h: ID!, $s: [ID!]!) { removeFromHighlight(highlightId: $h, storyIds: $s) { id } }"
    await api.gql(remove, {"h": trips, "s": [twice]}, curator.token)
    assert await sweep() == 0 and await present(twice_keys)  # still in "Best"
    await api.gql("mutation($id: ID!) { deleteHighlight(id: $id) }", {"id": best}, curator.token)
    assert await sweep() == 1  # it left its last highlight: swept on the next run
    assert not await present(twice_keys) and await present(once_keys)

    await set_archive(api, archivist, False)
    assert await sweep() == 1
    assert not await present(archived_keys) and await present(once_keys)
    assert await sweep() == 0


async def test_concurrent_sweepers_skip_kept_stories_in_their_claim(api: Api) -> None:
    authors = await bulk_users(api, 30, prefix="keep")
    archivists, curators, others = authors[:5], authors[5:10], authors[10:]
    await bulk_archive(api, archivists)
    # The kept stories expired first: a claim that took them in would fill its batches with them.
    kept = await bulk_stories(api, archivists + curators, created_at=api.clock.now() - timedelta(days=5))
    for curator, story in zip(curators, kept[len(archivists) :], strict=True):
        await bulk_highlight(api, curator, [story])
    expired = await bulk_stories(api, others, created_at=api.clock.now() - timedelta(days=3))

    counts = await asyncio.gather(
        sweep_expired_stories(api.services, batch=3), sweep_expired_stories(api.services, batch=3)
    )

    assert sum(counts) == len(expired)
    async with api.services.db.read() as session:
        swept = Counter(
            await session.scalars(select(StoryEvent.story_id).where(StoryEvent.kind == "story_expired"))
        )
        holding = list(await session.scalars(select(Story.id).where(Story.media_id.is_not(None))))
    assert swept == Counter(expired)
    assert sorted(holding) == sorted(kept)
