"""Stories: creating and deleting them, and THE entry point for reading one a viewer may see.

Every path that returns or acts on a story goes through `visible_stories` (or the profile
and tray helpers built on `filter_visible`): expiry is a read-time filter on the app's
clock, and audience rules come from resolvers/visibility.py with batched relationships.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update

from core.context import RequestContext
from core.errors import BadInput, Forbidden, NotFound, WriteConflict
from models import Media, Story, StoryEvent, User
from resolvers.loader import RequestLoader, unique
from resolvers.media import attach
from resolvers.users import RelationshipTo, UserById
from resolvers.visibility import STRANGER, Relationship, can_see_story

AUDIENCES = ("PUBLIC", "FOLLOWERS", "CLOSE_FRIENDS", "CONTACTS")


def is_live(story: Story, now: datetime) -> bool:
    """Not deleted, not purged, and now < expiresAt (a story is gone at its expiry instant)."""
    return story.deleted_at is None and story.media_id is not None and now < story.expires_at


class StoryById(RequestLoader[int, Story | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Story | None]:
        async with self.ctx.read() as session:
            return {s.id: s for s in await session.scalars(select(Story).where(Story.id.in_(unique(keys))))}

    def default(self, key: int) -> Story | None:
        return None


class LiveStoriesByAuthor(RequestLoader[int, list[Story]]):
    """Each author's live stories, oldest first, before audience rules."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, list[Story]]:
        stmt = (
            select(Story)
            .where(
                Story.author_id.in_(unique(keys)),
                Story.expires_at > self.ctx.services.clock.now(),
                Story.deleted_at.is_(None),
                Story.media_id.is_not(None),
            )
            .order_by(Story.id)
        )
        found: dict[int, list[Story]] = {}
        async with self.ctx.read() as session:
            for story in await session.scalars(stmt):
                found.setdefault(story.author_id, []).append(story)
                StoryById(self.ctx).prime(story.id, story)
        return found

    def default(self, key: int) -> list[Story]:
        return []


async def filter_visible(ctx: RequestContext, stories: Iterable[Story]) -> list[Story]:
    """The live stories among `stories` that the viewer may see, in the order given."""
    now = ctx.services.clock.now()
    live = [s for s in stories if is_live(s, now)]
    authors = unique(s.author_id for s in live)
    if not authors:
        return []
    users, rels = await asyncio.gather(UserById(ctx).load_many(authors), _relationships(ctx, authors))
    by_author = {author: (user, rel) for author, user, rel in zip(authors, users, rels, strict=True)}
    return [s for s in live if admits(*by_author[s.author_id], s.audience)]


def admits(author: User | None, rel: Relationship, audience: str) -> bool:
    """Whether a live story of `author` with `audience` is for the viewer related to them by `rel`."""
    return author is not None and can_see_story(rel, audience=audience, author_is_private=author.is_private)


async def _relationships(ctx: RequestContext, user_ids: list[int]) -> list[Relationship]:
    if ctx.viewer_id is None:
        return [STRANGER] * len(user_ids)
    return await RelationshipTo(ctx).load_many(user_ids)


async def visible_stories(ctx: RequestContext, ids: Iterable[int]) -> dict[int, Story]:
    """The stories among `ids` the viewer may see now; missing, expired, deleted or hidden ones are absent."""
    rows = await StoryById(ctx).load_many(unique(ids))
    return {s.id: s for s in await filter_visible(ctx, [row for row in rows if row is not None])}


async def visible_story(ctx: RequestContext, story_id: int) -> Story:
    """The story if the viewer may see it now; NOT_FOUND otherwise, whatever the reason."""
    found = (await visible_stories(ctx, [story_id])).get(story_id)
    if found is None:
        raise NotFound("Story")
    return found


async def user_stories(ctx: RequestContext, author_id: int) -> list[Story]:
    """A profile's active stories the viewer may see, oldest first."""
    return await filter_visible(ctx, await LiveStoriesByAuthor(ctx).load(author_id))


async def create_story(ctx: RequestContext, media_id: int, audience: str) -> Story:
    viewer = ctx.require_viewer()
    if audience not in AUDIENCES:
        raise BadInput("Unknown audience.", field="audience")
    (media,) = await attach(ctx, [media_id], "STORY")
    services = ctx.services
    now = services.clock.now()
    story = Story(
        id=services.ids.next_id(),
        author_id=viewer,
        media_id=media.id,
        audience=audience,
        created_at=now,
        expires_at=now + timedelta(seconds=services.settings.story_ttl_seconds),
    )
    try:
        async with ctx.write() as work:
            await work.session.execute(select(Media.id).where(Media.id == media.id).with_for_update())
            if await work.session.scalar(select(Story.id).where(Story.media_id == media.id)) is not None:
                raise BadInput("This media is already used by a story.", field="mediaId")
            work.session.add(story)
    except WriteConflict:
        raise BadInput("This media is already used by a story.", field="mediaId") from None
    return story


async def delete_story(ctx: RequestContext, story_id: int) -> int:
    """Author only. The media stays until the sweeper purges it with the expired stories."""
    viewer = ctx.require_viewer()
    services = ctx.services
    async with ctx.write() as work:
        story = await visible_story(ctx, story_id)
        if story.author_id != viewer:
            raise Forbidden("Only the author can delete a story.")
        result = await work.session.execute(
            update(Story)
            .where(Story.id == story_id, Story.deleted_at.is_(None))
            .values(deleted_at=services.clock.now())
        )
        if getattr(result, "rowcount", 0):
            work.session.add(
                StoryEvent(
                    id=services.ids.next_id(),
                    story_id=story_id,
                    kind="story_deleted",
                    created_at=services.clock.now(),
                )
            )
    return story_id
