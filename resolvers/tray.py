"""The stories tray: one item per owner with stories the viewer may see, in a fixed number of statements.

Order: the viewer's own item, then owners with unseen stories, then the rest; within each
group the owner whose latest story is newest comes first.

Consistency while the viewer watches: watching moves owners from "unseen" to "seen", which
would make later pages repeat or skip owners. So the first page takes a snapshot mark (a
time-ordered id) and every cursor carries it; later pages order owners as they stood at the
mark: only stories and views with ids below it count for an owner's group and position.
What an item shows (its stories, hasUnseen, latestStoryAt) is current. Owners whose first
story came after the mark are left for the next refresh; stories that expire or become
invisible meanwhile simply drop out, which never makes another owner repeat or vanish.

Cost: one statement for every candidate story with the viewer's view of it, one each for the
owners and the relationships (through their loaders, primed), one for the page's stories.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, select, union

from core.context import RequestContext
from core.errors import BadInput
from models import CloseFriend, Contact, Follow, FollowState, Story, StoryView, User
from resolvers.paging import Page, check_size, decode_cursor, encode_cursor
from resolvers.stories import StoryById, admits, is_live, user_stories
from resolvers.story_activity import ViewIdOf
from resolvers.users import RelationshipTo, UserById, findable_user
from resolvers.visibility import Relationship

OWN, UNSEEN, SEEN = 0, 1, 2


@dataclass(frozen=True)
class TrayItem:
    owner: User
    stories: list[Story]  # oldest first
    has_unseen: bool
    latest_story_at: datetime


@dataclass(frozen=True, order=True)
class TrayKey:
    """Ascending order of keys is the order of the tray."""

    group: int
    newest_first: int  # minus the id of the owner's latest story
    owner_id: int


class Candidate(NamedTuple):
    id: int
    author_id: int
    audience: str
    view_id: int | None


def _cursor(mark: int, key: TrayKey) -> str:
    return encode_cursor(f"{mark}.{key.group}.{-key.newest_first}.{key.owner_id}")


def _parse_cursor(after: str | None) -> tuple[int, TrayKey] | None:
    if not after:
        return None
    parts = decode_cursor(after).split(".")
    if len(parts) != 4 or not all(part.isdigit() and len(part) <= 20 for part in parts):
        raise BadInput("Malformed cursor.", field="after")
    mark, group, latest, owner = map(int, parts)
    return mark, TrayKey(group, -latest, owner)


def _unseen_at(view_id: int | None, mark: int) -> bool:
    return view_id is None or view_id >= mark


async def stories_tray(ctx: RequestContext, first: int | None, after: str | None) -> Page[TrayItem]:
    viewer = ctx.require_viewer()
    size = check_size(first, "first", default=50)
    parsed = _parse_cursor(after)
    mark = parsed[0] if parsed else ctx.services.ids.next_id()
    candidates = await _candidates(ctx, viewer)
    owners = await _owners(ctx, list(dict.fromkeys(c.author_id for c in candidates)))

    by_owner: dict[int, list[Candidate]] = {}
    for candidate in candidates:
        user, rel = owners[candidate.author_id]
        if admits(user, rel, candidate.audience):
            by_owner.setdefault(candidate.author_id, []).append(candidate)
    keyed: list[tuple[TrayKey, int]] = []
    for owner_id, owned in by_owner.items():
        at_mark = [c for c in owned if c.id < mark]
        if not at_mark:
            continue
        unseen = any(_unseen_at(c.view_id, mark) for c in at_mark)
        key = TrayKey(OWN if owner_id == viewer else UNSEEN if unseen else SEEN, -at_mark[-1].id, owner_id)
        if parsed is None or key > parsed[1]:
            keyed.append((key, owner_id))
    keyed.sort()
    page = keyed[:size]

    shown = [c for _, owner_id in page for c in by_owner[owner_id]]
    rows = await StoryById(ctx).load_many([c.id for c in shown])
    now = ctx.services.clock.now()
    story_of = {row.id: row for row in rows if row is not None and is_live(row, now)}
    for candidate in shown:
        ViewIdOf(ctx).prime(candidate.id, candidate.view_id)
    items = []
    for key, owner_id in page:
        stories = [story_of[c.id] for c in by_owner[owner_id] if c.id in story_of]
        user = owners[owner_id][0]
        if not stories or user is None:
            continue
        item = TrayItem(
            owner=user,
            stories=stories,
            has_unseen=any(c.view_id is None for c in by_owner[owner_id]),
            latest_story_at=stories[-1].created_at,
        )
        items.append((_cursor(mark, key), item))
    return Page(items=items, has_next=len(keyed) > size, has_previous=parsed is not None)


async def _candidates(ctx: RequestContext, viewer: int) -> list[Candidate]:
    """One statement: live stories of the viewer and of everyone who could admit them, oldest first.

    That is accounts the viewer follows, and accounts that list the viewer as a close friend
    or a contact. Public stories of strangers are visible on profiles, not in the tray.
    """
    related = union(
        select(Follow.followee_id).where(Follow.follower_id == viewer, Follow.state == FollowState.ACCEPTED),
        select(CloseFriend.user_id).where(CloseFriend.other_id == viewer),
        select(Contact.user_id).where(Contact.other_id == viewer),
    )
    stmt = (
        select(Story.id, Story.author_id, Story.audience, StoryView.id)
        .outerjoin(StoryView, and_(StoryView.story_id == Story.id, StoryView.viewer_id == viewer))
        .where(
            Story.expires_at > ctx.services.clock.now(),
            Story.deleted_at.is_(None),
            Story.media_id.is_not(None),
            (Story.author_id == viewer) | Story.author_id.in_(related),
        )
        .order_by(Story.id)
    )
    async with ctx.read() as session:
        return [Candidate(*row) for row in (await session.execute(stmt)).all()]


async def _owners(ctx: RequestContext, owner_ids: list[int]) -> dict[int, tuple[User | None, Relationship]]:
    """Owners and the viewer's relationships to them, one statement each however many (then primed)."""
    users_loader, rels_loader = UserById(ctx), RelationshipTo(ctx)
    users, rels = await asyncio.gather(users_loader.fetch(owner_ids), rels_loader.fetch(owner_ids))
    found: dict[int, tuple[User | None, Relationship]] = {}
    for owner in owner_ids:
        user, rel = users.get(owner), rels.get(owner, rels_loader.default(owner))
        users_loader.prime(owner, user)
        rels_loader.prime(owner, rel)
        found[owner] = (user, rel)
    return found


async def tray_item(ctx: RequestContext, owner_id: int) -> TrayItem | None:
    """One owner's tray entry as the viewer sees it now (what `node(id:)` refetches), or None."""
    if ctx.viewer_id is None:
        return None
    owner = await findable_user(ctx, owner_id)
    stories = await user_stories(ctx, owner_id) if owner is not None else []
    if owner is None or not stories:
        return None
    seen = await ViewIdOf(ctx).load_many([story.id for story in stories])
    return TrayItem(owner, stories, any(view is None for view in seen), stories[-1].created_at)
