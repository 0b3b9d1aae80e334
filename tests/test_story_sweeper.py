"""The sweeper: purges media of stories past expiry plus retention, once each, on S3 (moto) and local disk."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

import commands
from models import Media, Story, StoryEvent
from resolvers.sweeper import sweep_expired_stories
from tests.harness import Api
from tests.story_helpers import bulk_stories, bulk_users, create_story, db_id

STORY_MEDIA = "query($id: ID!) { node(id: $id) { ... on Story { media { id } } } }"


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
