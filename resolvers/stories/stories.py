"""Stories: creating and deleting them, and THE entry point for reading one a viewer may see.

Every path that returns or acts on a story goes through `visible_stories` (or the profile
and tray helpers built on `filter_visible`): expiry is a read-time filter on the app's
clock, and audience rules come from resolvers/stories/rules.py with batched relationships.

Past its expiry a story lives on only where its author chose (ARCHITECTURE.md, Lifetimes of a
story): in a highlight, or in the author's archive. Only the paths made for that go through
`filter_reachable` / `reachable_stories` (node(id:), highlights, the archive, deleteStory); every other path
(tray, profile, viewers, reactions, replies, subscriptions) stays on `visible_stories`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import RequestContext
from core.errors import BadInput, Forbidden, NotFound, WriteConflict
from core.unit_of_work import UnitOfWork
from models import Highlight, HighlightStory, Media, Story, StoryEvent, User
from resolvers.accounts.users import RelationshipTo, UserById
from resolvers.loader import RequestLoader, unique
from resolvers.media.uploads import attach
from resolvers.stories.rules import (
    AUDIENCES,
    can_see_expired_story,
    can_see_story,
    has_expired,
    is_live,
    live,
    urls_end_with_story,
)
from resolvers.visibility import STRANGER, Relationship

# Live stories one author may have at once (Instagram's figure): what a profile or tray item lists.
MAX_LIVE_STORIES = 100


class StoryById(RequestLoader[int, Story | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Story | None]:
        async with self.ctx.read() as session:
            return {s.id: s for s in await session.scalars(select(Story).where(Story.id.in_(unique(keys))))}

    def default(self, key: int) -> Story | None:
        return None


class InHighlight(RequestLoader[int, bool]):
    """Whether each story is in at least one highlight."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, bool]:
        stmt = select(HighlightStory.story_id).where(HighlightStory.story_id.in_(unique(keys))).distinct()
        async with self.ctx.read() as session:
            return {story_id: True for story_id in await session.scalars(stmt)}

    def default(self, key: int) -> bool:
        return False


class LiveStoriesByAuthor(RequestLoader[int, list[Story]]):
    """Each author's live stories, oldest first, before audience rules."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, list[Story]]:
        stmt = (
            select(Story)
            .where(Story.author_id.in_(unique(keys)), live(self.ctx.services.clock.now()))
            .order_by(Story.id)
        )
        found: dict[int, list[Story]] = {}
        async with self.ctx.read() as session:
            for story in await session.scalars(stmt):
                found.setdefault(story.author_id, []).append(story)
                StoryById(self.ctx).prime(story.id, story)
        return {author: stories[-MAX_LIVE_STORIES:] for author, stories in found.items()}

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


async def filter_reachable(
    ctx: RequestContext, stories: Iterable[Story], *, highlighted: Iterable[int] | None = None
) -> list[Story]:
    """The stories among `stories` the viewer may see now in whatever lifetime each is in: live ones
    by audience; past expiry, the kept ones (`can_see_expired_story`). `highlighted`: ids the caller
    knows to be in a highlight (a highlight's own stories); by default looked up in one batch."""
    now = ctx.services.clock.now()
    present = [s for s in stories if s.deleted_at is None and s.media_id is not None]
    expired = [s.id for s in present if has_expired(s, now)]
    if highlighted is None:
        flags = await InHighlight(ctx).load_many(expired)
        kept_in_highlight = {story_id for story_id, flag in zip(expired, flags, strict=True) if flag}
    else:
        kept_in_highlight = set(highlighted)
    authors = unique(s.author_id for s in present)
    if not authors:
        return []
    users, rels = await asyncio.gather(UserById(ctx).load_many(authors), _relationships(ctx, authors))
    by_author = {author: (user, rel) for author, user, rel in zip(authors, users, rels, strict=True)}

    def reachable(story: Story) -> bool:
        author, rel = by_author[story.author_id]
        if not has_expired(story, now):
            return admits(author, rel, story.audience)
        return author is not None and can_see_expired_story(
            rel,
            audience=story.audience,
            author_is_private=author.is_private,
            highlighted=story.id in kept_in_highlight,
            archived=author.archive_stories,
        )

    return [s for s in present if reachable(s)]


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


async def reachable(ctx: RequestContext, stories: Sequence[Story]) -> list[bool]:
    """Which of `stories` the viewer may see now, in whatever lifetime each is in (`filter_reachable`)."""
    shown = {story.id for story in await filter_reachable(ctx, stories)}
    return [story.id in shown for story in stories]


async def reachable_stories(ctx: RequestContext, ids: Iterable[int]) -> dict[int, Story]:
    """`visible_stories`, plus the expired stories the viewer may still reach because their author
    kept them: for node(id:), deleting, and choosing stories to highlight. Views, reactions and
    replies stay on `visible_stories`: they are for live stories only."""
    rows = await StoryById(ctx).load_many(unique(ids))
    return {s.id: s for s in await filter_reachable(ctx, [row for row in rows if row is not None])}


def media_urls_end(ctx: RequestContext, story: Story, *, kept: bool) -> datetime | None:
    """When the story's media URLs must end: with a live story; never for one shown kept past expiry."""
    return story.expires_at if urls_end_with_story(story, ctx.services.clock.now(), kept=kept) else None


async def user_stories(ctx: RequestContext, author_id: int) -> list[Story]:
    """A profile's active stories the viewer may see, oldest first."""
    return await filter_visible(ctx, await LiveStoriesByAuthor(ctx).load(author_id))


async def create_story(ctx: RequestContext, media_id: int, audience: str) -> Story:
    viewer = ctx.require_viewer()
    if audience not in AUDIENCES:
        raise BadInput("Unknown audience.", field="audience")
    (media,) = await attach(ctx, [media_id], "STORY", "mediaId")
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
            # The author's row serialises their story posts, so two at once cannot both be the 100th.
            await work.session.execute(select(User.id).where(User.id == viewer).with_for_update())
            live_now = await work.session.scalar(
                select(func.count()).select_from(Story).where(Story.author_id == viewer, live(now))
            )
            if (live_now or 0) >= MAX_LIVE_STORIES:
                raise BadInput(
                    f"At most {MAX_LIVE_STORIES} stories can be live at once: delete one or wait until "
                    "the oldest expires.",
                    field="mediaId",
                )
            work.session.add(story)
    except WriteConflict:
        raise BadInput("This media is already used by a story.", field="mediaId") from None
    return story


async def lock_highlights(work: UnitOfWork, owner_id: int) -> None:
    """The first lock of every write that changes an owner's highlights or their membership
    (creating, filling, emptying or deleting a highlight, deleting a story), held until commit.

    One order everywhere: this lock, then story rows, then highlight rows, then highlight_stories
    rows. deleteStory reaches highlights through the story (story, its memberships, the highlights
    they name) and removeFromHighlight through the highlight: without a lock taken first by both,
    each could hold what the other waits for (a deadlock on PostgreSQL). A highlight holds only its
    owner's stories, so one lock per owner orders them all."""
    await work.lock("highlights", owner_id)


async def delete_story(ctx: RequestContext, story_id: int) -> int:
    """Author only. The media stays until the sweeper purges it with the expired stories; the story
    leaves its highlights at once, and a highlight left with no story goes with it."""
    viewer = ctx.require_viewer()
    services = ctx.services
    async with ctx.write() as work:
        await lock_highlights(work, viewer)  # only the author may delete: their highlights
        # Kept stories too: the author removes one from their archive or highlights this way.
        story = (await reachable_stories(ctx, [story_id])).get(story_id)
        if story is None:
            raise NotFound("Story")
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
            await _leave_highlights(work.session, story)
    return story_id


async def _leave_highlights(session: AsyncSession, story: Story) -> None:
    """A deleted story is in no highlight, covers none, and leaves no highlight empty."""
    await session.execute(delete(HighlightStory).where(HighlightStory.story_id == story.id))
    if story.media_id is not None:
        await session.execute(
            update(Highlight)
            .where(Highlight.owner_id == story.author_id, Highlight.cover_media_id == story.media_id)
            .values(cover_media_id=None)
        )
    await session.execute(
        delete(Highlight).where(
            Highlight.owner_id == story.author_id,
            ~exists().where(HighlightStory.highlight_id == Highlight.id),
        )
    )
