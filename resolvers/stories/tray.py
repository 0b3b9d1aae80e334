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

The page is chosen in the database, in one statement: the visible live stories of the related
accounts with the viewer's views are found once (a CTE), grouped by owner, the owners ordered by
their key and the page after the cursor kept (LIMIT), and those owners' stories read back from
the same CTE with their owners' rows (primed into `UserById`). Visibility in SQL is `live` and
`story_visible_sql`, the rules of resolvers/stories/rules.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, case, func, literal, or_, select, union

from core.context import RequestContext
from core.errors import BadInput
from models import CloseFriend, Contact, Follow, FollowState, Story, StoryView, User
from resolvers.accounts.users import UserById, findable_user, relationship
from resolvers.graph.mutes import muted
from resolvers.paging import Page, check_size, decode_cursor, encode_cursor
from resolvers.stories.rules import live, story_visible_sql
from resolvers.stories.stories import MAX_LIVE_STORIES, user_stories
from resolvers.stories.views import ViewIdOf

OWN, UNSEEN, SEEN = 0, 1, 2


@dataclass(frozen=True)
class TrayItem:
    owner: User
    stories: list[Story]  # oldest first
    has_unseen: bool
    latest_story_at: datetime

    @property
    def id(self) -> int:
        """The entry's id (its global id, `StoryTrayItem:<owner id>`): the owner's."""
        return self.owner.id


@dataclass(frozen=True)
class TrayKey:
    """Owners are ordered by (group, latest story id descending, owner id)."""

    group: int
    latest: int
    owner_id: int


def _cursor(mark: int, key: TrayKey) -> str:
    return encode_cursor(f"{mark}.{key.group}.{key.latest}.{key.owner_id}")


def _parse_cursor(after: str | None) -> tuple[int, TrayKey] | None:
    if not after:
        return None
    parts = decode_cursor(after).split(".")
    if len(parts) != 4 or not all(part.isdigit() and len(part) <= 20 for part in parts):
        raise BadInput("Malformed cursor.", field="after")
    mark, group, latest, owner = map(int, parts)
    return mark, TrayKey(group, latest, owner)


async def stories_tray(ctx: RequestContext, first: int | None, after: str | None) -> Page[TrayItem]:
    viewer = ctx.require_viewer()
    size = check_size(first, "first", default=50)
    parsed = _parse_cursor(after)
    mark = parsed[0] if parsed else _first_mark(ctx)
    now = ctx.services.clock.now()
    params: dict[str, Any] = {"viewer": viewer, "mark": mark, "now": now, "limit": size + 1}
    async with ctx.read() as session:
        if parsed is None:
            found = (await session.execute(FIRST_PAGE, params)).all()
        else:
            key = parsed[1]
            cursor = {"after_group": key.group, "after_latest": key.latest, "after_owner": key.owner_id}
            found = (await session.execute(LATER_PAGE, params | cursor)).all()
    keys = sorted({TrayKey(row.grp, row.latest, row.User.id) for row in found}, key=_order)
    page = keys[:size]
    owner_ids = [key.owner_id for key in page]
    owners = UserById(ctx)
    for row in found:
        owners.prime(row.User.id, row.User)
    users = await owners.load_many(owner_ids)
    on_page = set(owner_ids)
    stories: dict[int, list[Story]] = {}
    unseen: dict[int, bool] = {}
    views = ViewIdOf(ctx)
    for story, view_id, *_ in found:
        if story.author_id not in on_page:
            continue  # the owner after the page: it only tells that a next page exists
        stories.setdefault(story.author_id, []).append(story)
        unseen[story.author_id] = unseen.get(story.author_id, False) or view_id is None
        views.prime(story.id, view_id)
    items = [
        (
            _cursor(mark, key),
            TrayItem(
                owner=user,
                stories=stories[key.owner_id][-MAX_LIVE_STORIES:],
                has_unseen=unseen[key.owner_id],
                latest_story_at=stories[key.owner_id][-1].created_at,
            ),
        )
        for key, user in zip(page, users, strict=True)
        if user is not None and key.owner_id in stories
    ]
    return Page(items=items, has_next=len(keys) > size, has_previous=parsed is not None)


class FirstMark:
    """Key of the request's first-page mark in `ctx.loaders`: a request that asks for the first
    page twice (a batch, the compiled executor's differential check) gets the same cursors."""


def _first_mark(ctx: RequestContext) -> int:
    mark: int | None = ctx.loaders.get(FirstMark)
    if mark is None:
        mark = ctx.loaders[FirstMark] = ctx.services.ids.next_id()
    return mark


# The statements are built once, with parameters: building and hashing them per request cost more
# than PostgreSQL spends running them.
VIEWER: BindParameter[int] = bindparam("viewer")
MARK: BindParameter[int] = bindparam("mark")


def _visible_live(*columns: Any) -> Select[Any]:
    """Live stories of the viewer and of accounts that could admit them, that the viewer may see,
    with the id of the viewer's view of each.

    Related accounts are those the viewer follows and those that list the viewer as a close
    friend or a contact. Public stories of strangers are visible on profiles, not in the tray.
    """
    related = union(
        select(Follow.followee_id).where(Follow.follower_id == VIEWER, Follow.state == FollowState.ACCEPTED),
        select(CloseFriend.user_id).where(CloseFriend.other_id == VIEWER),
        select(Contact.user_id).where(Contact.other_id == VIEWER),
    )
    return (
        select(*columns)
        .join(User, User.id == Story.author_id)
        .outerjoin(StoryView, and_(StoryView.story_id == Story.id, StoryView.viewer_id == VIEWER))
        .where(
            live(bindparam("now")),
            or_(
                Story.author_id == VIEWER,
                and_(Story.author_id.in_(related), ~muted(VIEWER, Story.author_id, stories=True)),
            ),
            story_visible_sql(VIEWER, Story, User),
        )
    )


def _order(key: TrayKey) -> tuple[int, int, int]:
    return key.group, -key.latest, key.owner_id


def _page(after: bool) -> Select[Any]:
    """The page's owners' current visible stories, oldest first, each with the viewer's view, its
    owner's (group, latest) as they stood at the mark, and the owner; the owner after the page
    comes too."""
    visible = _visible_live(Story.id, Story.author_id, StoryView.id.label("view_id")).cte("visible")
    owners = _owners(visible, after).subquery("owners")
    return (
        select(Story, visible.c.view_id, owners.c.grp, owners.c.latest, User)
        .join(visible, visible.c.id == Story.id)
        .join(owners, owners.c.author_id == Story.author_id)
        .join(User, User.id == Story.author_id)
        .order_by(Story.id)
    )


def _owners(visible: Any, after: bool) -> Select[Any]:
    """(group, latest, owner) of the owners (after the cursor), as they stood at the mark."""
    view = visible.c.view_id
    unseen_at_mark = func.max(case((or_(view.is_(None), view >= MARK), 1), else_=0))
    group = case(
        (visible.c.author_id == VIEWER, literal(OWN)), (unseen_at_mark == 1, literal(UNSEEN)), else_=SEEN
    )
    owners = (
        select(group.label("grp"), func.max(visible.c.id).label("latest"), visible.c.author_id)
        .where(visible.c.id < MARK)
        .group_by(visible.c.author_id)
        .subquery()
    )
    grp, latest, owner = owners.c.grp, owners.c.latest, owners.c.author_id
    stmt = select(grp, latest, owner)
    if after:
        after_group: BindParameter[int] = bindparam("after_group")
        after_latest: BindParameter[int] = bindparam("after_latest")
        stmt = stmt.where(
            or_(
                grp > after_group,
                and_(grp == after_group, latest < after_latest),
                and_(grp == after_group, latest == after_latest, owner > bindparam("after_owner")),
            )
        )
    return stmt.order_by(grp, latest.desc(), owner).limit(bindparam("limit"))


FIRST_PAGE = _page(after=False)
LATER_PAGE = _page(after=True)


async def tray_item(ctx: RequestContext, owner_id: int) -> TrayItem | None:
    """One owner's tray entry as the viewer sees it now (what `node(id:)` refetches), or None."""
    if ctx.viewer_id is None:
        return None
    owner = await findable_user(ctx, owner_id)
    if owner is not None and (await relationship(ctx, owner_id)).muting_stories:
        return None
    stories = await user_stories(ctx, owner_id) if owner is not None else []
    if owner is None or not stories:
        return None
    seen = await ViewIdOf(ctx).load_many([story.id for story in stories])
    return TrayItem(owner, stories, any(view is None for view in seen), stories[-1].created_at)
