"""Loaders of the stories tray's plan (schema/stories/stories.py declares them): the tray page, and per
story its media, the viewer's seen mark and reaction, and the author's view count.

Each applies the rule strawberry's field applies, through the same functions of resolvers/: the
tray's owners and stories pass their edges' rules (`findable`, `reachable`), a live story's media
URLs end with it, the view count is the author's while the story is live. The seen marks come
from the loader the tray page primed, so they cost no statement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.context import RequestContext
from execution.batched import Each, Loaded, Rules, ShownPage, users_on
from execution.loaders import ChildLoader, RootLoader
from models import Story
from resolvers.accounts.users import UserById, interacting
from resolvers.media.uploads import MediaById
from resolvers.paging import page_args
from resolvers.parent_pages import PageKey
from resolvers.stories import stories, tray
from resolvers.stories.reactions import ViewerReaction
from resolvers.stories.rules import shows_views_to, urls_end_with_story
from resolvers.stories.views import ViewCount, ViewersPage, ViewIdOf
from schema.stories.stories import VIEWERS_PAGE


async def _stories_tray(ctx: RequestContext, args: dict[str, Any]) -> Any:
    return await tray.stories_tray(ctx, args.get("first"), args.get("after") or None)


async def _itself(ctx: RequestContext, key: Any) -> Any:
    return key


async def _listed(ctx: RequestContext, key: tuple[Story, ...]) -> list[Story]:
    return list(key)


@dataclass(frozen=True)
class MediaUntil:
    """A media row whose URLs end no later than `urls_end_by` (a live story's): the compiled source
    of such media. It reads as the row (`Column`s and `Pure`s of schema/media/media.py read through)."""

    row: Any
    urls_end_by: datetime | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


class StoryMedia(ChildLoader):
    """A story's media, keyed by the story: while it is live its URLs end with it (`media_of`)."""

    async def load(
        self, ctx: RequestContext, keys: Sequence[Story], args: dict[str, Any]
    ) -> Mapping[Story, Any]:
        rows = await MediaById(ctx).load_many([story.media_id for story in keys if story.media_id])
        by_id = {row.id: row for row in rows if row is not None}
        now = ctx.services.clock.now()
        found: dict[Story, Any] = {}
        for story in keys:
            row = by_id.get(story.media_id) if story.media_id else None
            if row is not None:
                ends = urls_end_with_story(story, now, kept=False)
                found[story] = MediaUntil(row, story.expires_at if ends else None)
        return found


class AuthorViewCount(ChildLoader):
    """`Story.viewCount`: the author's, while the story is live; null for anyone else. Keyed by story."""

    async def load(
        self, ctx: RequestContext, keys: Sequence[Story], args: dict[str, Any]
    ) -> Mapping[Story, Any]:
        now = ctx.services.clock.now()
        own = [story for story in keys if shows_views_to(ctx.viewer_id, story, now)]
        counts = await ViewCount(ctx).load_many([story.id for story in own])
        return dict(zip(own, counts, strict=True))


@dataclass(frozen=True)
class ViewerItem:
    """A `StoryViewer`'s compiled source: the user's row, when they viewed, their reaction."""

    user: Any
    viewed_at: datetime
    reaction: str | None


class AuthorViewers(ChildLoader):
    """`Story.viewers`, keyed by story: the author's page of each live story (null otherwise), its
    viewers across no block (`Story.viewers` and the edges' `UserType.interacting`)."""

    async def load(
        self, ctx: RequestContext, keys: Sequence[Story], args: dict[str, Any]
    ) -> Mapping[Story, Any]:
        size = page_args(args.get("first"), args.get("after"), default=VIEWERS_PAGE)
        now = ctx.services.clock.now()
        own = [story for story in keys if shows_views_to(ctx.viewer_id, story, now)]
        pages = await ViewersPage(ctx).load_many([PageKey(story.id, size.first, size.after) for story in own])
        ids = [row.user_id for page in pages for _, row in page.items]
        users, shown = await asyncio.gather(UserById(ctx).load_many(ids), interacting(ctx, ids))
        listed = iter(zip(users, shown, strict=True))
        kept: dict[Story, list[tuple[str, ViewerItem]]] = {}
        for story, page in zip(own, pages, strict=True):
            kept[story] = []
            for (cursor, row), (user, ok) in zip(page.items, listed, strict=False):
                if user is not None and ok:
                    kept[story].append((cursor, ViewerItem(user, row.viewed_at, row.reaction)))
        # The edge (`viewers` and each viewer's `user`) then admits users across no block.
        every = [item.user for items in kept.values() for _, item in items]
        admitted = {
            id(user) for user, ok in zip(every, await Rules.interacting_user(ctx, every), strict=True) if ok
        }
        return {
            story: ShownPage(
                page, [(cursor, item) for cursor, item in kept[story] if id(item.user) in admitted]
            )
            for story, page in zip(own, pages, strict=True)
        }


def _seen(view_id: int | None) -> bool:
    return view_id is not None


ROOTS: dict[str, RootLoader] = {"stories_tray": _stories_tray}
CHILDREN: dict[str, ChildLoader] = {
    "findable_users": users_on(Rules.user),
    # A tray entry's stories, keyed by the entry's list as a tuple.
    "reachable_stories": Each(_listed, Rules.story, default=()),
    "story_media": StoryMedia(),
    "story_seen": Loaded(ViewIdOf, False, _seen),
    "story_reaction": Loaded(ViewerReaction),
    "story_view_count": AuthorViewCount(),
    "story_viewers": AuthorViewers(),
    "viewer_user": Each(_itself, Rules.interacting_user),
}


async def _story_node(ctx: RequestContext, story_id: int) -> Story | None:
    """As `schema.stories.stories.story_node`: live stories by audience, past expiry the kept ones."""
    return (await stories.reachable_stories(ctx, [story_id])).get(story_id)


NODES: dict[str, Any] = {"Story": _story_node, "StoryTrayItem": tray.tray_item}
