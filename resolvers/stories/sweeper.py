"""The story sweeper: soft-deletes stories past expiry plus the retention window and purges their media.

Expiry itself is a read-time filter; this is lazy cleanup. It runs in batches, each batch one
transaction that locks its rows with FOR UPDATE SKIP LOCKED on PostgreSQL, so sweepers in
several processes share the work and each story is swept once. The media objects are deleted
after the commit through the outbox (core/outbox.py), which retries until storage takes them.

Stories their author keeps (in a highlight, or archived: `kept_past_expiry`) are never claimed.
The claim's snapshot may predate a highlight committed just before the row was locked, so the
update that purges re-applies the rule in a statement of its own and purges what it returns;
adding to a highlight locks the story rows, so once claimed a story cannot be added until swept.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select, update

from core.context import Services
from core.sql import skip_locked
from core.unit_of_work import unit_of_work
from models import Media, Story, StoryEvent
from resolvers.media.uploads import object_keys
from resolvers.stories.rules import expired, kept_past_expiry

log = logging.getLogger("ephemera.sweeper")


async def sweep_expired_stories(services: Services, batch: int = 200) -> int:
    """Sweep every story due now; how many were swept by this call."""
    swept = 0
    while True:
        claimed, done = await _sweep_batch(services, batch)
        swept += done
        if claimed < batch:
            return swept


async def _sweep_batch(services: Services, batch: int) -> tuple[int, int]:
    """(stories claimed, stories swept) by one batch."""
    now = services.clock.now()
    cutoff = now - timedelta(seconds=services.settings.story_media_retention_seconds)
    async with unit_of_work(services) as work:
        session = work.session
        stmt = (
            select(Story)
            .where(expired(cutoff), Story.media_id.is_not(None), ~kept_past_expiry())
            .order_by(Story.expires_at)
            .limit(batch)
        )
        stmt = skip_locked(stmt, services.db)
        claimed = {story.id: story.media_id for story in await session.scalars(stmt)}
        if not claimed:
            return 0, 0
        purged = await session.execute(
            update(Story)
            .where(Story.id.in_(list(claimed)), ~kept_past_expiry())
            .values(media_id=None)
            .returning(Story.id)
            .execution_options(synchronize_session=False)
        )
        story_ids = list(purged.scalars())
        media_ids = [media_id for story_id in story_ids if (media_id := claimed[story_id]) is not None]
        media = list(await session.scalars(select(Media).where(Media.id.in_(media_ids))))
        # Author-deleted stories keep their first deletion time.
        await session.execute(
            update(Story)
            .where(Story.id.in_(story_ids), Story.deleted_at.is_(None))
            .values(deleted_at=now)
            .execution_options(synchronize_session=False)
        )
        await session.execute(delete(Media).where(Media.id.in_(media_ids)))
        session.add_all(
            StoryEvent(id=services.ids.next_id(), story_id=story_id, kind="story_expired", created_at=now)
            for story_id in story_ids
        )
        # The objects go after the commit, through the outbox: no storage call holds the transaction.
        work.delete_objects(key for row in media for key in object_keys(row))
    log.info("swept %d expired stories", len(story_ids))
    return len(claimed), len(story_ids)
