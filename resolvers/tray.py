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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, union

from models import CloseFriend, Contact, Follow, FollowState, Media, Story, User
from resolvers.context import RequestContext
from resolvers.errors import BadInput
from resolvers.media import MediaById
from resolvers.paging import Page, check_size, decode_cursor, encode_cursor
from resolvers.stories import StoryById, filter_visible
from resolvers.story_activity import ViewIdOf
from resolvers.users import RelationshipTo, UserById

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


async def stories_tray(ctx: RequestContext, first: int | None, after: str | None) -> Page[TrayItem]:
    viewer = ctx.require_viewer()
    size = check_size(first, "first", default=50)
    parsed = _parse_cursor(after)
    mark = parsed[0] if parsed else ctx.services.ids.next_id()
    stories = await _candidates(ctx, viewer)
    await _preload(ctx, stories)
    visible = await filter_visible(ctx, stories)
    views = await ViewIdOf(ctx).load_many([s.id for s in visible])
    view_of = {s.id: view for s, view in zip(visible, views, strict=True)}

    by_owner: dict[int, list[Story]] = {}
    for story in visible:
        by_owner.setdefault(story.author_id, []).append(story)
    keyed: list[tuple[TrayKey, TrayItem]] = []
    for owner_id, owned in by_owner.items():
        at_mark = [s for s in owned if s.id < mark]
        if not at_mark:
            continue
        unseen_at_mark = any(_unseen_at(view_of[s.id], mark) for s in at_mark)
        group = OWN if owner_id == viewer else UNSEEN if unseen_at_mark else SEEN
        key = TrayKey(group, -max(s.id for s in at_mark), owner_id)
        if parsed and key <= parsed[1]:
            continue
        owner = await UserById(ctx).load(owner_id)
        if owner is None:
            continue
        item = TrayItem(
            owner=owner,
            stories=owned,
            has_unseen=any(view_of[s.id] is None for s in owned),
            latest_story_at=owned[-1].created_at,
        )
        keyed.append((key, item))
    keyed.sort(key=lambda pair: pair[0])
    return Page(
        items=[(_cursor(mark, key), item) for key, item in keyed[:size]],
        has_next=len(keyed) > size,
        has_previous=parsed is not None,
    )


def _unseen_at(view_id: int | None, mark: int) -> bool:
    return view_id is None or view_id >= mark


async def _candidates(ctx: RequestContext, viewer: int) -> list[Story]:
    """One statement: live stories of the viewer and of everyone who could admit them.

    That is accounts the viewer follows, and accounts that list the viewer as a close friend
    or a contact. Public stories of strangers are visible on profiles, not in the tray.
    """
    related = union(
        select(Follow.followee_id).where(Follow.follower_id == viewer, Follow.state == FollowState.ACCEPTED),
        select(CloseFriend.user_id).where(CloseFriend.other_id == viewer),
        select(Contact.user_id).where(Contact.other_id == viewer),
    )
    stmt = (
        select(Story, Media)
        .join(Media, Media.id == Story.media_id)
        .where(
            Story.expires_at > ctx.services.clock.now(),
            Story.deleted_at.is_(None),
            (Story.author_id == viewer) | Story.author_id.in_(related),
        )
        .order_by(Story.id)
    )
    async with ctx.services.db.read() as session:
        rows = (await session.execute(stmt)).all()
    for story, media in rows:
        StoryById(ctx).prime(story.id, story)
        MediaById(ctx).prime(media.id, media)
    return [story for story, _ in rows]


async def _preload(ctx: RequestContext, stories: list[Story]) -> None:
    """Owners, relationships and seen marks in one statement each, whatever the tray's size.

    The loaders would split batches above their max size; the tray fetches directly and primes them.
    """
    owners = list(dict.fromkeys(s.author_id for s in stories))
    users = await UserById(ctx).fetch(owners)
    rels = await RelationshipTo(ctx).fetch(owners)
    views = await ViewIdOf(ctx).fetch([s.id for s in stories])
    for owner in owners:
        UserById(ctx).prime(owner, users.get(owner))
        RelationshipTo(ctx).prime(owner, rels.get(owner, RelationshipTo(ctx).default(owner)))
    for story in stories:
        ViewIdOf(ctx).prime(story.id, views.get(story.id))
