"""The activity inbox's page in ONE statement on PostgreSQL: its rows, each item's newest three
shown actors (user rows, with their avatars when asked) and how many, whether it is unseen, and
whether its post, comment, story and message are still the viewer's to see.

Every condition is the domain's own, composed: the page is resolvers/activity/inbox.py's
(`item_shown_sql`, newest seq first, one more than asked), the actors `ActorsOf`'s
(`actor_shown_sql`, newest three, the count over all), the edges `visible_post` (`content_visible`
of resolvers/visibility_sql.py), `visible_comment` (its post's `content_visible`, `interacts` with
its author), `visible_message` (the viewer's member row, not declined, and `interacts` with the
sender) and `visible_stories` (`live` and `story_visible_sql` of resolvers/stories/rules.py). An
item is left out as `load_items` leaves it out. Rows of the edges the document asks for
(`FieldPlan.below`) come in the same statement; the edges' loaders answer the items' objects
without a statement (`checked`). Compiled once per shape (execution/joined.py `compiled`).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, Select, bindparam, exists, func, select, true
from sqlalchemy.orm import aliased

from core.context import RequestContext
from execution import joined, rows
from models import (
    Activity,
    ActivityActor,
    ActivityInbox,
    Comment,
    ConversationMember,
    Message,
    Post,
    Story,
    User,
)
from resolvers.activity.inbox import MAX_ACTORS, ActivityItem, item_shown_sql
from resolvers.activity.recording import ActivityKind
from resolvers.activity.rules import actor_shown_sql
from resolvers.conversations.members import DECLINED
from resolvers.paging import Page, PageArgs, page_from_rows
from resolvers.stories.rules import live, story_visible_sql
from resolvers.visibility_sql import content_visible, interacts

_EDGES: dict[str, Any] = {"post": Post, "comment": Comment, "story": Story, "message": Message}
ActivityRow = namedtuple("ActivityRow", [c.key for c in Activity.__table__.c])  # type: ignore[misc]
EdgeRows: dict[str, Any] = {
    name: namedtuple(f"{model.__name__}Row", [c.key for c in model.__table__.c])
    for name, model in _EDGES.items()
}


class Checked:
    """`id()`s of the objects the page's statement read and checked (actors, edges): their
    edges' loaders give them as they are. Keyed in `ctx.loaders`."""


def checked(ctx: RequestContext) -> set[int]:
    found: set[int] = ctx.loaders.setdefault(Checked, set())
    return found


@dataclass(frozen=True)
class _Shape:
    after: bool
    edges: tuple[str, ...]  # the edges whose rows the document asks for
    avatars: bool


def _ok(name: str, page: Any, viewer: Any, now: Any) -> Any:
    """Whether the item's `name` edge is visible to the viewer (true when it has none)."""
    author = aliased(User)
    if name == "post":
        found = exists().where(
            Post.id == page.c.post_id,
            author.id == Post.author_id,
            content_visible(viewer, Post.author_id, author.is_private),
        )
    elif name == "comment":
        parent = aliased(Post)
        found = exists().where(
            Comment.id == page.c.comment_id,
            parent.id == Comment.post_id,
            author.id == parent.author_id,
            content_visible(viewer, parent.author_id, author.is_private),
            interacts(viewer, Comment.author_id),
        )
    elif name == "message":
        member = ConversationMember
        found = exists().where(
            Message.id == page.c.message_id,
            member.conversation_id == Message.conversation_id,
            member.user_id == viewer,
            member.state != DECLINED,
            interacts(viewer, Message.sender_id),
        )
    else:
        found = exists().where(
            Story.id == page.c.story_id,
            author.id == Story.author_id,
            live(now),
            story_visible_sql(viewer, Story, author),
        )
    return found.label(f"{name}_ok")


def _statement(shape: _Shape) -> Select[Any]:
    viewer = bindparam("viewer", type_=BigInteger)
    now = bindparam("now", type_=DateTime(timezone=True))
    selection = select(*Activity.__table__.c).where(Activity.user_id == viewer, item_shown_sql(viewer, now))
    if shape.after:
        selection = selection.where(Activity.seq < bindparam("after", type_=Integer))
    page = selection.order_by(Activity.seq.desc()).limit(bindparam("size", type_=Integer)).subquery("page")
    order = (ActivityActor.acted_at.desc(), ActivityActor.actor_id.desc())
    rank = func.row_number().over(order_by=order).label("rank")
    actor_columns: list[Any] = [*User.__table__.c, func.count().over().label("total"), rank]
    actor_source: Any = ActivityActor.__table__.join(
        Activity.__table__, Activity.id == ActivityActor.activity_id
    ).join(User.__table__, User.id == ActivityActor.actor_id)
    if shape.avatars:
        actor_columns += list(rows.AVATAR.c)
        actor_source = actor_source.outerjoin(rows.AVATAR, rows.AVATAR.c.id == User.avatar_media_id)
    actors = (
        select(*actor_columns)
        .select_from(actor_source)
        .where(ActivityActor.activity_id == page.c.id, actor_shown_sql(viewer))
        .order_by(*order)
        .limit(MAX_ACTORS)
        .lateral("actors")
    )
    seen = select(ActivityInbox.seen_seq).where(ActivityInbox.user_id == viewer).scalar_subquery()
    columns: list[Any] = [
        *page.c,
        func.coalesce(seen, 0).label("seen"),
        *(_ok(n, page, viewer, now) for n in _EDGES),
    ]
    source: Any = page.outerjoin(actors, true())
    for name in shape.edges:
        table = _EDGES[name].__table__.alias(name)
        columns += list(table.c)
        source = source.outerjoin(table, table.c.id == page.c[f"{name}_id"])
    columns += list(actors.c)
    return select(*columns).select_from(source).order_by(page.c.seq.desc(), actors.c.rank)


def shape_of(below: frozenset[str], after: bool) -> _Shape:
    edges = tuple(name for name in _EDGES if f"activity_{name}" in below)
    return _Shape(after, edges, "activity_actors" in below and "media_by_id" in below)


async def activity_page(ctx: RequestContext, args: PageArgs, below: frozenset[str]) -> Page[ActivityItem]:
    """`resolvers/activity/inbox.py` `activity_page`, in one statement."""
    viewer = ctx.require_viewer()
    shape = shape_of(below, args.after is not None)
    params = {"viewer": viewer, "now": ctx.services.clock.now(), "after": args.after, "size": args.first + 1}
    found = await joined.read_rows(ctx, shape, lambda: _statement(shape), params)
    page = page_from_rows(_items(ctx, shape, found), args)  # cut before items leave, as the domain's
    kept = [(cursor, item) for cursor, item in page.items if item is not None]
    return Page(kept, page.has_next, page.has_previous)


def _items(
    ctx: RequestContext, shape: _Shape, found: list[list[Any]]
) -> list[tuple[int, ActivityItem | None]]:
    width = len(Activity.__table__.c)
    oks = width + 1  # after `seen`
    edge_at = oks + len(_EDGES)
    actor_at = edge_at + sum(len(_EDGES[name].__table__.c) for name in shape.edges)
    user_end = actor_at + len(User.__table__.c)
    users, avatars, seen_ids = rows.known_users(ctx), rows.known_media(ctx), checked(ctx)
    items: dict[int, tuple[Any, list[Any], int, dict[str, Any]]] = {}
    for values in found:
        row: Any = ActivityRow._make(values[:width])
        if row.id not in items:
            edges, at = {}, edge_at
            for name in shape.edges:
                end = at + len(_EDGES[name].__table__.c)
                if values[at] is not None:
                    edges[name] = EdgeRows[name]._make(values[at:end])
                at = end
            ok = dict(zip(_EDGES, values[oks:edge_at], strict=True))
            items[row.id] = (row, [], values[user_end], {"ok": ok, "seen": values[width], **edges})
        if values[actor_at] is not None:
            user: Any = joined.UserRow._make([*values[actor_at:user_end], True])
            items[row.id][1].append(users.setdefault(user.id, user))
            if shape.avatars:
                rows.keep_avatar(avatars, user, values[user_end + 2 :])
    kept: list[tuple[int, ActivityItem | None]] = []
    for row, actors, total, extra in items.values():
        ok = extra["ok"]
        gone = (
            (row.post_id and not ok["post"])
            or (row.comment_id and not ok["comment"])
            or (row.message_id and not ok["message"])
            or (row.kind == ActivityKind.STORY_REACTED and not ok["story"])
            or not actors
        )
        if gone:
            kept.append((row.seq, None))
            continue
        edges = {name: extra.get(name) if ok[name] else None for name in _EDGES}
        item = ActivityItem(row, actors, total or 0, **edges, unseen=row.seq > extra["seen"])
        seen_ids.update(id(value) for value in (*actors, *edges.values()) if value is not None)
        kept.append((row.seq, item))
    return kept
