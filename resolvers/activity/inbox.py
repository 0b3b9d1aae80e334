"""Reading the activity inbox: pages newest first, the unseen count, marking seen, single items.

What the viewer may no longer see vanishes at read time. The page and count statements leave out
items without a visible actor (none outside a blocked pair, and for likes and follows, the like or
follow still standing) and reactions to stories no longer live, so pages are exact and the count
agrees with the list (`actor_shown_sql` of resolvers/activity/rules.py, `live` of
resolvers/stories/rules.py); then every item on a page is checked with the same functions as every
other path (`actor_shown`, `visible_post`, `visible_comment`, `visible_stories`, `visible_message`),
which drop an actor or the whole item.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from core.context import RequestContext
from models import (
    Activity,
    ActivityActor,
    ActivityInbox,
    Comment,
    Message,
    Post,
    Story,
    User,
)
from resolvers.accounts.users import UserById, relationships
from resolvers.activity.recording import ActivityKind
from resolvers.activity.rules import actor_shown, actor_shown_sql
from resolvers.conversations.messages import visible_message
from resolvers.loader import RequestLoader, unique
from resolvers.paging import Page, PageArgs, page_from_rows
from resolvers.posts.comments import visible_comment
from resolvers.posts.posts import visible_post
from resolvers.stories.rules import live
from resolvers.stories.stories import visible_stories

MAX_ACTORS = 3


@dataclass(frozen=True)
class ActivityItem:
    row: Activity
    actors: list[User]  # the most recent visible actors, newest first, at most three
    actor_count: int
    post: Post | None
    comment: Comment | None
    story: Story | None
    message: Message | None
    unseen: bool

    @property
    def id(self) -> int:
        """The item's id (of its global id, `Activity:<id>`): its row's."""
        return self.row.id


def item_shown_sql(viewer: Any, now: Any) -> ColumnElement[bool]:
    """An activity row the inbox lists: a shown actor, and a reaction's story still live (`viewer`,
    `now`: values or bound parameters)."""
    has_actor = exists().where(ActivityActor.activity_id == Activity.id, actor_shown_sql(viewer))
    live_story = exists().where(Story.id == Activity.story_id, live(now))
    return and_(has_actor, or_(Activity.kind != ActivityKind.STORY_REACTED, live_story))


@dataclass(frozen=True)
class ActorPreview:
    actor_ids: list[int]  # newest first, at most MAX_ACTORS
    count: int


class ActorsOf(RequestLoader[int, ActorPreview]):
    """Per item, its visible actors: the newest three and how many, in one statement per page."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, ActorPreview]:
        viewer = self.ctx.require_viewer()
        order = (ActivityActor.acted_at.desc(), ActivityActor.actor_id.desc())
        inner = (
            select(
                ActivityActor.activity_id,
                ActivityActor.actor_id,
                func.row_number().over(partition_by=ActivityActor.activity_id, order_by=order).label("rank"),
                func.count().over(partition_by=ActivityActor.activity_id).label("total"),
            )
            .join(Activity, Activity.id == ActivityActor.activity_id)
            .where(
                ActivityActor.activity_id.in_(unique(keys)),
                Activity.user_id == viewer,
                actor_shown_sql(viewer),
            )
            .subquery()
        )
        stmt = select(inner).where(inner.c.rank <= MAX_ACTORS).order_by(inner.c.activity_id, inner.c.rank)
        found: dict[int, ActorPreview] = {}
        async with self.ctx.read() as session:
            for activity_id, actor_id, _, total in (await session.execute(stmt)).all():
                preview = found.setdefault(activity_id, ActorPreview([], total))
                preview.actor_ids.append(actor_id)
        return found

    def default(self, key: int) -> ActorPreview:
        return ActorPreview([], 0)


class SeenSeq(RequestLoader[int, int]):
    """The last seq the user marked seen (0 before any)."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, int]:
        stmt = select(ActivityInbox.user_id, ActivityInbox.seen_seq).where(
            ActivityInbox.user_id.in_(unique(keys))
        )
        async with self.ctx.read() as session:
            return {user_id: seen for user_id, seen in (await session.execute(stmt)).all()}

    def default(self, key: int) -> int:
        return 0


async def _item(ctx: RequestContext, row: Activity, preview: ActorPreview, seen: int) -> ActivityItem | None:
    users, rels = await asyncio.gather(
        UserById(ctx).load_many(preview.actor_ids), relationships(ctx, preview.actor_ids)
    )
    actors = [
        user for user, rel in zip(users, rels, strict=True) if user is not None and actor_shown(row.kind, rel)
    ]
    if not actors:
        return None
    post, comment, story, message = await asyncio.gather(
        visible_post(ctx, row.post_id) if row.post_id else _none(),
        visible_comment(ctx, row.comment_id) if row.comment_id else _none(),
        _story(ctx, row.story_id),
        visible_message(ctx, row.message_id) if row.message_id else _none(),
    )
    gone = (
        (row.post_id and post is None)
        or (row.comment_id and comment is None)
        or (row.message_id and message is None)
        or (row.kind == ActivityKind.STORY_REACTED and story is None)
    )
    if gone:
        return None
    count = preview.count - (len(preview.actor_ids) - len(actors))
    return ActivityItem(row, actors, count, post, comment, story, message, unseen=row.seq > seen)


async def _none() -> None:
    return None


async def _story(ctx: RequestContext, story_id: int | None) -> Story | None:
    """A reply keeps its item when its story expires (the item loses the story); a reaction does not."""
    if story_id is None:
        return None
    return (await visible_stories(ctx, [story_id])).get(story_id)


async def load_items(ctx: RequestContext, rows: list[Activity]) -> list[ActivityItem | None]:
    """The items of the viewer's rows as the viewer may see them now (None: vanished)."""
    viewer = ctx.require_viewer()
    previews, seen = await asyncio.gather(
        ActorsOf(ctx).load_many([row.id for row in rows]), SeenSeq(ctx).load(viewer)
    )
    return list(
        await asyncio.gather(*(_item(ctx, row, p, seen) for row, p in zip(rows, previews, strict=True)))
    )


async def activity_page(ctx: RequestContext, args: PageArgs) -> Page[ActivityItem]:
    """Most recently updated first; the cursor is the seq, so pages never repeat an item (one that
    regroups meanwhile moves above the first page, where a refresh finds it)."""
    viewer = ctx.require_viewer()
    stmt = select(Activity).where(
        Activity.user_id == viewer, item_shown_sql(viewer, ctx.services.clock.now())
    )
    if args.after is not None:
        stmt = stmt.where(Activity.seq < args.after)
    async with ctx.read() as session:
        rows = list(await session.scalars(stmt.order_by(Activity.seq.desc()).limit(args.first + 1)))
    page = page_from_rows([(row.seq, row) for row in rows], args)
    items = await load_items(ctx, [row for _, row in page.items])
    kept = [(cursor, item) for (cursor, _), item in zip(page.items, items, strict=True) if item is not None]
    return Page(kept, page.has_next, page.has_previous)


async def unseen_count(ctx: RequestContext) -> int:
    viewer = ctx.require_viewer()
    seen = select(ActivityInbox.seen_seq).where(ActivityInbox.user_id == viewer).scalar_subquery()
    stmt = select(func.count()).where(
        Activity.user_id == viewer,
        Activity.seq > func.coalesce(seen, 0),
        item_shown_sql(viewer, ctx.services.clock.now()),
    )
    async with ctx.read() as session:
        return int(await session.scalar(stmt) or 0)


async def mark_seen(ctx: RequestContext) -> int:
    """Everything up to the newest item is seen; the unseen count after it (0 unless an item
    arrived meanwhile)."""
    viewer = ctx.require_viewer()
    async with ctx.write() as work:
        await work.session.execute(
            update(ActivityInbox)
            .where(ActivityInbox.user_id == viewer)
            .values(seen_seq=ActivityInbox.last_seq)
        )
    return await unseen_count(ctx)


class ActivityById(RequestLoader[int, Activity | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Activity | None]:
        async with self.ctx.read() as session:
            rows = await session.scalars(select(Activity).where(Activity.id.in_(unique(keys))))
            return {row.id: row for row in rows}

    def default(self, key: int) -> Activity | None:
        return None


async def visible_activity(ctx: RequestContext, activity_id: int) -> ActivityItem | None:
    """One of the viewer's own items, as their inbox shows it; anyone else's is not found."""
    if ctx.viewer_id is None:
        return None
    row = await ActivityById(ctx).load(activity_id)
    if row is None or row.user_id != ctx.viewer_id:
        return None
    return (await load_items(ctx, [row]))[0]
