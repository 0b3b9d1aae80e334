"""Who saw a story: seen marks, view counts, and the author's viewers list (each with the
viewer's reaction, which resolvers/stories/reactions.py records)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, func, select

from core.context import RequestContext
from core.errors import BadInput, NotFound
from core.sql import insert_ignore_many
from models import Story, StoryReaction, StoryView
from resolvers.loader import RequestLoader, unique
from resolvers.paging import Page, PageArgs
from resolvers.parent_pages import PageKey, ParentPages
from resolvers.stories.rules import shows_views_to
from resolvers.stories.stories import visible_stories
from resolvers.visibility_sql import interacts

MAX_SEEN_IDS = 100


class ViewIdOf(RequestLoader[int, int | None]):
    """The id of the viewer's first view of each story (ids are time-ordered), or None."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, int | None]:
        viewer = self.ctx.viewer_id
        if viewer is None:
            return {}
        stmt = select(StoryView.story_id, StoryView.id).where(
            StoryView.viewer_id == viewer, StoryView.story_id.in_(unique(keys))
        )
        async with self.ctx.read() as session:
            return {story_id: view_id for story_id, view_id in (await session.execute(stmt)).all()}

    def default(self, key: int) -> int | None:
        return None


class ViewCount(RequestLoader[int, int]):
    """Views by others: the author's own views count for their tray, never in their audience."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, int]:
        stmt = (
            select(StoryView.story_id, func.count())
            .join(Story, Story.id == StoryView.story_id)
            .where(StoryView.story_id.in_(unique(keys)), StoryView.viewer_id != Story.author_id)
            .group_by(StoryView.story_id)
        )
        async with self.ctx.read() as session:
            return {story_id: count for story_id, count in (await session.execute(stmt)).all()}

    def default(self, key: int) -> int:
        return 0


class ViewerRow(NamedTuple):
    user_id: int
    viewed_at: datetime
    reaction: str | None


class ViewersPage(ParentPages[ViewerRow]):
    """Most recent view first, with each viewer's reaction, none across a block (either way); one
    statement per page shape."""

    key = StoryView.id
    parent = StoryView.story_id

    def candidates(self, parents: list[int]) -> Select[*tuple[Any, ...]]:
        return (
            select(
                StoryView.id,
                StoryView.story_id,
                StoryView.viewer_id,
                StoryView.viewed_at,
                StoryReaction.emoji,
            )
            .join(Story, Story.id == StoryView.story_id)
            .outerjoin(
                StoryReaction,
                and_(
                    StoryReaction.story_id == StoryView.story_id, StoryReaction.user_id == StoryView.viewer_id
                ),
            )
            .where(
                StoryView.story_id.in_(parents),
                StoryView.viewer_id != Story.author_id,
                interacts(self.ctx.viewer_id, StoryView.viewer_id),
            )
        )

    def item(self, row: Any) -> ViewerRow:
        return ViewerRow(row.viewer_id, row.viewed_at, row.emoji)


async def mark_seen(ctx: RequestContext, story_ids: list[int]) -> list[Story]:
    """Idempotent: the first view time is kept. Any story the viewer may not see fails the whole call."""
    viewer = ctx.require_viewer()
    if not 1 <= len(story_ids) <= MAX_SEEN_IDS:
        raise BadInput(f"Mark between 1 and {MAX_SEEN_IDS} stories at once.", field="ids")
    ids = unique(story_ids)
    services = ctx.services
    async with ctx.write() as work:
        visible = await visible_stories(ctx, ids)
        if len(visible) != len(ids):
            raise NotFound("Story")
        now = services.clock.now()
        rows = [
            {"id": services.ids.next_id(), "story_id": story_id, "viewer_id": viewer, "viewed_at": now}
            for story_id in ids
        ]
        await insert_ignore_many(work.session, StoryView, rows)
    return [visible[story_id] for story_id in ids]


async def view_count(ctx: RequestContext, story: Story) -> int | None:
    """How many others viewed the story: for its author while it is live, None for anyone else."""
    if not shows_views_to(ctx.viewer_id, story, ctx.services.clock.now()):
        return None
    return await ViewCount(ctx).load(story.id)


async def viewers(ctx: RequestContext, story: Story, args: PageArgs) -> Page[ViewerRow] | None:
    """Who viewed the story, most recent first: for its author while it is live, None otherwise."""
    if not shows_views_to(ctx.viewer_id, story, ctx.services.clock.now()):
        return None
    return await ViewersPage(ctx).load(PageKey(story.id, args.first, args.after))
