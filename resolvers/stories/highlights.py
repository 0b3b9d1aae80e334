"""Highlights: named sets of an author's stories on their profile, kept past the stories' expiry.

A highlight holds 1 to MAX_STORIES_PER_HIGHLIGHT of its owner's stories, active or kept (archived,
or already in a highlight). While a story is in a highlight the sweeper keeps it and its media.
Who sees a highlighted story is decided by `filter_reachable` (resolvers/stories/stories.py): the story's
audience evaluated now, as for a live story. A highlight none of whose stories the viewer may see
does not exist for that viewer. Every write here and deleteStory take the owner's highlights lock
first (`lock_highlights`: one lock order, no deadlock between them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from core.context import RequestContext
from core.errors import BadInput, NotFound
from core.unit_of_work import UnitOfWork
from models import Highlight, HighlightStory, Story
from resolvers.loader import RequestLoader, unique
from resolvers.stories.stories import (
    InHighlight,
    StoryById,
    filter_reachable,
    lock_highlights,
    reachable_stories,
)
from resolvers.text import clean_line

MAX_TITLE = 30
MAX_STORIES_PER_HIGHLIGHT = 100
MAX_HIGHLIGHTS_PER_USER = 50


@dataclass(frozen=True)
class VisibleHighlight:
    row: Highlight
    stories: list[Story]  # those the viewer may see, oldest first; never empty

    @property
    def cover(self) -> Story:
        """The story whose media the owner chose as cover when the viewer may see it, else the first."""
        chosen = (s for s in self.stories if s.media_id == self.row.cover_media_id)
        return next(chosen, self.stories[0])


class HighlightById(RequestLoader[int, Highlight | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Highlight | None]:
        stmt = select(Highlight).where(Highlight.id.in_(unique(keys)))
        async with self.ctx.read() as session:
            return {row.id: row for row in await session.scalars(stmt)}

    def default(self, key: int) -> Highlight | None:
        return None


class HighlightsByOwner(RequestLoader[int, list[Highlight]]):
    """Each owner's highlights, newest first."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, list[Highlight]]:
        stmt = select(Highlight).where(Highlight.owner_id.in_(unique(keys))).order_by(Highlight.id.desc())
        found: dict[int, list[Highlight]] = {}
        async with self.ctx.read() as session:
            for row in await session.scalars(stmt):
                found.setdefault(row.owner_id, []).append(row)
                HighlightById(self.ctx).prime(row.id, row)
        return found

    def default(self, key: int) -> list[Highlight]:
        return []


class StoriesOfHighlight(RequestLoader[int, list[Story]]):
    """Each highlight's stories, oldest first, before any rule: one statement for many highlights."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, list[Story]]:
        stmt = (
            select(HighlightStory.highlight_id, Story)
            .join(Story, Story.id == HighlightStory.story_id)
            .where(HighlightStory.highlight_id.in_(unique(keys)))
            .order_by(Story.id)
        )
        found: dict[int, list[Story]] = {}
        async with self.ctx.read() as session:
            for highlight_id, story in (await session.execute(stmt)).all():
                found.setdefault(highlight_id, []).append(story)
                StoryById(self.ctx).prime(story.id, story)
                InHighlight(self.ctx).prime(story.id, True)
        return found

    def default(self, key: int) -> list[Story]:
        return []


async def _visible(ctx: RequestContext, highlights: list[Highlight]) -> list[VisibleHighlight]:
    """The highlights with the stories the viewer may see; those with none are left out."""
    story_lists = await StoriesOfHighlight(ctx).load_many([h.id for h in highlights])
    every = [story for stories in story_lists for story in stories]
    allowed = {s.id for s in await filter_reachable(ctx, every, highlighted=[s.id for s in every])}
    found = []
    for highlight, stories in zip(highlights, story_lists, strict=True):
        shown = [s for s in stories if s.id in allowed]
        if shown:
            found.append(VisibleHighlight(highlight, shown))
    return found


async def visible_highlights(ctx: RequestContext, rows: Sequence[Highlight]) -> list[bool]:
    """Which highlights exist for the viewer: those with a story they may see."""
    shown = {found.row.id for found in await _visible(ctx, list(rows))}
    return [row.id in shown for row in rows]


async def user_highlights(ctx: RequestContext, owner_id: int) -> list[VisibleHighlight]:
    """A profile's highlights the viewer may see, newest first, in a fixed number of statements."""
    return await _visible(ctx, await HighlightsByOwner(ctx).load(owner_id))


async def visible_highlight(ctx: RequestContext, highlight_id: int) -> VisibleHighlight | None:
    row = await HighlightById(ctx).load(highlight_id)
    found = await _visible(ctx, [row]) if row is not None else []
    return found[0] if found else None


def _title(title: str) -> str:
    text = clean_line(title, field="title", max_length=MAX_TITLE)
    if not text:
        raise BadInput("A highlight needs a title.", field="title")
    return text


def check_story_count(count: int) -> None:
    """Checked on the ids as given, before they are decoded or looked up."""
    if not 1 <= count <= MAX_STORIES_PER_HIGHLIGHT:
        raise BadInput(f"Give between 1 and {MAX_STORIES_PER_HIGHLIGHT} stories at once.", field="storyIds")


def _story_ids(story_ids: list[int]) -> list[int]:
    ids = unique(story_ids)
    check_story_count(len(ids))
    return ids


async def _own_stories(ctx: RequestContext, work: UnitOfWork, ids: list[int]) -> list[Story]:
    """The viewer's own stories that they may still reach (active, archived or highlighted); any
    other id, someone else's story included, is NOT_FOUND. The rows stay locked until commit, so
    a sweeper that has not claimed them skips them, and one that has makes this wait and fail."""
    viewer = ctx.require_viewer()
    lock = (
        select(Story.id)
        .where(
            Story.id.in_(ids),
            Story.author_id == viewer,
            Story.deleted_at.is_(None),
            Story.media_id.is_not(None),
        )
        .with_for_update(read=True)
    )
    await work.session.execute(lock)
    found = await reachable_stories(ctx, ids)
    if any(story_id not in found or found[story_id].author_id != viewer for story_id in ids):
        raise NotFound("Story")
    return [found[story_id] for story_id in ids]


async def _own_highlight(ctx: RequestContext, work: UnitOfWork, highlight_id: int) -> Highlight:
    """The viewer's highlight, locked until commit; anyone else's is NOT_FOUND."""
    viewer = ctx.require_viewer()
    row = await work.session.scalar(
        select(Highlight)
        .where(Highlight.id == highlight_id, Highlight.owner_id == viewer)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound("Highlight")
    return row


async def _members(work: UnitOfWork, highlight_id: int) -> list[int]:
    stmt = select(HighlightStory.story_id).where(HighlightStory.highlight_id == highlight_id)
    return list(await work.session.scalars(stmt))


async def create_highlight(
    ctx: RequestContext, title: str, story_ids: list[int], cover_media_id: int | None
) -> int:
    viewer = ctx.require_viewer()
    title = _title(title)
    ids = _story_ids(story_ids)
    services = ctx.services
    async with ctx.write() as work:
        await lock_highlights(work, viewer)  # two creations at once cannot pass the limit together
        count = await work.session.scalar(
            select(func.count()).select_from(Highlight).where(Highlight.owner_id == viewer)
        )
        if (count or 0) >= MAX_HIGHLIGHTS_PER_USER:
            raise BadInput(
                f"You have {MAX_HIGHLIGHTS_PER_USER} highlights, the most allowed: delete one first."
            )
        stories = await _own_stories(ctx, work, ids)
        if cover_media_id is not None and cover_media_id not in {s.media_id for s in stories}:
            raise BadInput(
                "The cover must be the media of one of the highlight's stories.", field="coverMediaId"
            )
        now = services.clock.now()
        highlight = Highlight(
            id=services.ids.next_id(),
            owner_id=viewer,
            title=title,
            cover_media_id=cover_media_id,
            created_at=now,
        )
        work.session.add(highlight)
        await work.session.flush()
        work.session.add_all(HighlightStory(highlight_id=highlight.id, story_id=s, added_at=now) for s in ids)
    return highlight.id


async def add_to_highlight(ctx: RequestContext, highlight_id: int, story_ids: list[int]) -> int:
    """Stories already in the highlight are left as they are."""
    ids = _story_ids(story_ids)
    async with ctx.write() as work:
        await lock_highlights(work, ctx.require_viewer())
        await _own_stories(ctx, work, ids)
        highlight = await _own_highlight(ctx, work, highlight_id)
        members = set(await _members(work, highlight.id))
        new = [story_id for story_id in ids if story_id not in members]
        if len(members) + len(new) > MAX_STORIES_PER_HIGHLIGHT:
            raise BadInput(
                f"A highlight holds at most {MAX_STORIES_PER_HIGHLIGHT} stories.", field="storyIds"
            )
        now = ctx.services.clock.now()
        work.session.add_all(HighlightStory(highlight_id=highlight.id, story_id=s, added_at=now) for s in new)
    return highlight.id


async def remove_from_highlight(ctx: RequestContext, highlight_id: int, story_ids: list[int]) -> int:
    """Stories not in the highlight are ignored. A story that leaves its last highlight is swept like
    any other once expired, unless archived."""
    ids = set(_story_ids(story_ids))
    async with ctx.write() as work:
        await lock_highlights(work, ctx.require_viewer())
        highlight = await _own_highlight(ctx, work, highlight_id)
        members = await _members(work, highlight.id)
        leaving = [story_id for story_id in members if story_id in ids]
        if not leaving:
            return highlight.id
        if len(leaving) == len(members):
            raise BadInput(
                "A highlight keeps at least one story: delete the highlight instead.", field="storyIds"
            )
        await work.session.execute(
            delete(HighlightStory).where(
                HighlightStory.highlight_id == highlight.id, HighlightStory.story_id.in_(leaving)
            )
        )
        if highlight.cover_media_id is not None:
            media = set(await work.session.scalars(select(Story.media_id).where(Story.id.in_(leaving))))
            if highlight.cover_media_id in media:
                highlight.cover_media_id = None
    return highlight.id


async def delete_highlight(ctx: RequestContext, highlight_id: int) -> int:
    """Its stories stay where else they are kept (other highlights, the archive); the rest are swept."""
    async with ctx.write() as work:
        await lock_highlights(work, ctx.require_viewer())
        highlight = await _own_highlight(ctx, work, highlight_id)
        await work.session.delete(highlight)
    return highlight_id
