"""A page (the feed's, a profile's posts, a post's comments) with its authors (and their
avatars), its posts' media and their hidden comment counts in ONE statement, on PostgreSQL, sent
through the request's own connection as an asyncpg prepared statement.

The page's selection stays the domain's (resolvers/feed/pages.py `feed_rows`, built once per
shape; the pages' `candidates`): it becomes the subquery `page`, joined to its authors (with
`interacts`, the rule the authors' own statement checks, composed from
resolvers/visibility_sql.py) and each post's media as an array of rows in the author's order, as
bench/request_path.py's floor does, and each
post's comments hidden from the viewer as a correlated count (resolvers/posts/comments.py
`hidden_comments`). What it read is kept for the child loaders (execution/rows.py `KnownUsers`,
`KnownPostMedia`, `KnownMedia`; `HiddenCommentCount` primed), which then answer those keys
without a statement. Other statements of one row (a profile's user, a post) are compiled and
sent the same way (`compile_once`, `fetch`; execution/profile_pages.py).

The statement is compiled once per page shape by SQLAlchemy (its parameters in asyncpg's
positional order) and run on the session's asyncpg connection: no per-request compile, no
SQLAlchemy result machinery. Values are converted by the columns' own result processors, so the
rows equal what the Core statements gave. Statement listeners (the tests' counts) still see it.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Float, Select, bindparam, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.context import Reader, RequestContext
from execution import rows
from models import Comment, Media, Post, PostMedia, User
from resolvers.posts.comments import HiddenCommentCount, hidden_comments
from resolvers.visibility_sql import interacts

PostRow = namedtuple("PostRow", [column.key for column in Post.__table__.c])  # type: ignore[misc]
CommentRow = namedtuple("CommentRow", [column.key for column in Comment.__table__.c])  # type: ignore[misc]
UserRow = namedtuple("UserRow", [*(column.key for column in User.__table__.c), "clear"])  # type: ignore[misc]
PostMediaRow = namedtuple(  # type: ignore[misc]
    "PostMediaRow", ["parent_post_id", *(column.key for column in Media.__table__.c)]
)
_MEDIA = list(Media.__table__.c)
EDGE_VIEWER = bindparam("edge_viewer", type_=BigInteger)


class StatementFailed(SQLAlchemyError):
    """The driver refused the statement: the shared read session is dropped, as for any SQL error."""


Convert = Callable[[Any], Any]


def _converters(columns: Sequence[Any], dialect: Dialect) -> list[tuple[int, Convert]]:
    """(position, the column type's result processor) for the columns that have one."""
    found = []
    for position, column in enumerate(columns):
        if isinstance(column.type, Float) and not column.type.asdecimal:
            continue  # asyncpg gives floats; the processor wants the column's PostgreSQL type
        process = column.type._cached_result_processor(dialect, None)
        if process is not None:
            found.append((position, process))
    return found


def converted(values: Sequence[Any], converters: list[tuple[int, Convert]]) -> list[Any]:
    out = list(values)
    for position, process in converters:
        out[position] = process(out[position])
    return out


@dataclass(frozen=True)
class Items:
    """What a page lists: a table's rows (by `author_id`, keyed by `id`) as named tuples, in
    which order."""

    table: Any
    row: Any
    newest_first: bool = True


POSTS = Items(Post.__table__, PostRow)
COMMENTS = Items(Comment.__table__, CommentRow, newest_first=False)


@dataclass(frozen=True)
class Shape:
    """Which child loads the page carries (media and hidden counts: posts only)."""

    users: bool
    media: bool
    hidden: bool = False
    items: Items = POSTS


@dataclass
class Prepared:
    sql: str
    names: tuple[str, ...]  # the parameters, in positional order
    defaults: dict[str, Any]  # constants of the selection (a follow state, the limit)
    binds: dict[str, Convert]  # bind processors by name
    converters: dict[str, list[tuple[int, Convert]]]  # per part of a row ("items", "users", "media")

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = [params[name] if name in params else self.defaults[name] for name in self.names]
        return [
            self.binds[name](value) if name in self.binds else value
            for name, value in zip(self.names, values, strict=True)
        ]


_USER_WIDTH = len(User.__table__.c) + 1  # with `clear`
_AVATAR_WIDTH = len(rows.AVATAR.c)


@dataclass(frozen=True, eq=False)
class Parent:
    """A page's one parent read in the same statement (a profile's user): its columns come last,
    the page is a LATERAL subquery of `source` (the page's selection refers to it), joined `on`."""

    columns: tuple[Any, ...]
    source: Any
    on: Any
    where: Any


def statement(page: Select[Any], shape: Shape, parent: Parent | None = None) -> Select[Any]:
    """The page's rows, then (shape.users) the author's columns, `clear` and the avatar's
    columns, then (shape.media) the post's media rows as one array, in position order, then
    (shape.hidden) the post's comments hidden from the viewer, then the parent's columns."""
    selected = page.with_only_columns(*shape.items.table.c)
    sub = selected.subquery("page") if parent is None else selected.lateral("page")
    columns: list[Any] = list(sub.c)
    source: Any = sub if parent is None else parent.source.outerjoin(sub, parent.on)
    if shape.users:
        columns += [*User.__table__.c, interacts(EDGE_VIEWER, User.id).label("clear"), *rows.AVATAR.c]
        source = source.outerjoin(User, User.id == sub.c.author_id).outerjoin(
            rows.AVATAR, rows.AVATAR.c.id == User.avatar_media_id
        )
    if shape.media:
        media = (
            select(func.array_agg(aggregate_order_by(func.row(*_MEDIA), PostMedia.position)))
            .select_from(PostMedia.__table__.join(Media.__table__, Media.id == PostMedia.media_id))
            .where(PostMedia.post_id == sub.c.id)
            .scalar_subquery()
        )
        columns.append(media.label("media"))
    if shape.hidden:
        columns.append(hidden_comments(EDGE_VIEWER, sub.c.id).label("hidden"))
    order = sub.c.id.desc() if shape.items.newest_first else sub.c.id
    if parent is not None:
        return select(*columns, *parent.columns).select_from(source).where(parent.where).order_by(order)
    return select(*columns).select_from(source).order_by(order)


# Per page selection (built once by resolvers/feed/pages.py), per shape and parent.
_PREPARED: weakref.WeakKeyDictionary[Select[Any], dict[Any, Prepared]] = weakref.WeakKeyDictionary()


def compile_once(stmt: Select[Any], dialect: Dialect, parts: Mapping[str, Sequence[Any]]) -> Prepared:
    """The statement's SQL and positional parameters, and the converters of each part of its rows."""
    compiled = stmt.compile(dialect=dialect)
    defaults = compiled.construct_params(_check=False)
    return Prepared(
        sql=compiled.string,
        names=tuple(compiled.positiontup or ()),
        defaults={name: value for name, value in defaults.items() if value is not None},
        binds={name: process for name, process in compiled._bind_processors.items() if callable(process)},
        converters={name: _converters(list(columns), dialect) for name, columns in parts.items()},
    )


def prepared(page: Select[Any], shape: Shape, dialect: Dialect, parent: Parent | None = None) -> Prepared:
    by_shape = _PREPARED.setdefault(page, {})
    found = by_shape.get((shape, parent))
    if found is None:
        parts = {"items": list(shape.items.table.c), "users": list(User.__table__.c), "media": _MEDIA}
        if parent is not None:
            parts["parent"] = list(parent.columns)
        found = by_shape[shape, parent] = compile_once(statement(page, shape, parent), dialect, parts)
    return found


class Announced:
    """Stands in for SQLAlchemy's execution context in the statement listeners' calls (tracing
    keeps its span on it between `before_cursor_execute` and `after_cursor_execute`)."""


async def fetch(conn: AsyncConnection, sql: str, arguments: list[Any]) -> list[Any]:
    """The statement on the connection's asyncpg connection (its statement cache prepares it once
    per connection), announced to the engine's statement listeners (the tests' counts, tracing)
    before and after, as SQLAlchemy's own execution does."""
    sync = conn.sync_connection
    assert sync is not None
    listened = sync._has_events or sync.engine._has_events
    params, context = tuple(arguments), Announced()
    if listened:
        sync.dispatch.before_cursor_execute(sync, None, sql, params, context, False)
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    try:
        return list(await driver.fetch(sql, *arguments))
    except Exception as exc:
        raise StatementFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        if listened:
            sync.dispatch.after_cursor_execute(sync, None, sql, params, context, False)


class JoinedPage:
    """A `Fetch` for `feed_rows` (resolvers/feed/pages.py) and the other pages: the page's rows,
    its authors, media and hidden counts kept for the child loaders of this request."""

    def __init__(self, ctx: RequestContext, shape: Shape) -> None:
        self.ctx, self.shape = ctx, shape

    async def __call__(self, read: Reader, page: Select[Any], params: Mapping[str, Any]) -> list[Any]:
        ctx = self.ctx
        viewer = ctx.viewer_id if ctx.viewer_id is not None else rows.NO_VIEWER
        async with read() as session:
            conn = await session.connection()
            statement = prepared(page, self.shape, conn.dialect)
            found = await fetch(conn, statement.sql, statement.arguments({**params, "edge_viewer": viewer}))
        return self.listed(statement, found)

    def listed(self, statement: Prepared, found: list[Any]) -> list[Any]:
        """The page's rows (a parent without any: one row of nulls, left out), its children kept."""
        shape, converters = self.shape, statement.converters
        listed = []
        users: dict[int, Any] = {}
        media_of: dict[int, list[Any]] = {}
        avatars = rows.known_media(self.ctx)
        width = len(shape.items.table.c)
        user_end = width + _USER_WIDTH
        media_at = user_end + _AVATAR_WIDTH if shape.users else width
        hidden_at = media_at + 1 if shape.media else media_at
        # Signed out, nothing is hidden (`HiddenCommentCount`): the count stays its loader's.
        hidden = HiddenCommentCount(self.ctx) if shape.hidden and self.ctx.viewer_id is not None else None
        for record in found:
            values = tuple(record)
            if values[0] is None:
                continue
            item: Any = shape.items.row._make(converted(values[:width], converters["items"]))
            listed.append(item)
            if shape.users and values[width] is not None:
                user: Any = UserRow._make(converted(values[width:user_end], converters["users"]))
                users[user.id] = user
                avatar = values[user_end : user_end + _AVATAR_WIDTH]
                rows.keep_avatar(avatars, user, avatar, lambda raw: converted(raw, converters["media"]))
            if shape.media:
                media_of[item.id] = [
                    PostMediaRow._make([item.id, *converted(each, converters["media"])])
                    for each in values[media_at] or ()
                ]
            if hidden is not None:
                hidden.prime(item.id, values[hidden_at])
        if shape.users:
            rows.known_users(self.ctx).update(users)
        if shape.media:
            rows.known_post_media(self.ctx).update(media_of)
        return listed


def shape_of(below: Collection[str], items: Items = POSTS) -> Shape | None:
    """The shape for the child loads a plan makes under the page (None: nothing to join)."""
    posts = items is POSTS
    shape = Shape(
        users="users_on_edge" in below,
        media=posts and "post_media" in below,
        hidden=posts and "comment_count" in below,
        items=items,
    )
    return shape if shape.users or shape.media or shape.hidden else None


# Any other statement (execution/message_page.py, activity_page.py, profile_pages.py): built and
# compiled once per key (everything that changes its text) and dialect, its rows converted
# column by column.
_COMPILED: dict[tuple[Any, str], Prepared] = {}


def compiled(key: Any, build: Callable[[], Select[Any]], dialect: Dialect) -> Prepared:
    """The statement `build()` gives for `key`, compiled once (its rows are the part "row")."""
    found = _COMPILED.get((key, dialect.name))
    if found is None:
        built = build()
        parts = {"row": list(built.selected_columns)}
        found = _COMPILED[key, dialect.name] = compile_once(built, dialect, parts)
    return found


async def read_rows(
    ctx: RequestContext, key: Any, build: Callable[[], Select[Any]], params: Mapping[str, Any]
) -> list[list[Any]]:
    """The rows of the statement of `key` on the read session's asyncpg connection, converted."""
    async with ctx.read() as session:
        conn = await session.connection()
        statement = compiled(key, build, conn.dialect)
        found = await fetch(conn, statement.sql, statement.arguments(params))
    return [converted(tuple(record), statement.converters["row"]) for record in found]
