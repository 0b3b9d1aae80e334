"""A feed page with its authors (and their avatars) and its posts' media in ONE statement, on
PostgreSQL, sent through the request's own connection as an asyncpg prepared statement.

The page's selection stays the domain's (resolvers/feed/pages.py `feed_rows`, built once per
shape): it becomes the subquery `page`, joined to its authors (with `interacts`, the rule the
authors' own statement checks, composed from resolvers/visibility_sql.py) and each post's media
as an array of rows in the author's order, as bench/request_path.py's floor does. What it read
is kept for the child loaders (execution/rows.py `KnownUsers`, `KnownPostMedia`, `KnownMedia`),
which then answer those keys without a statement.

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
from models import Media, Post, PostMedia, User
from resolvers.visibility_sql import interacts

PostRow = namedtuple("PostRow", [column.key for column in Post.__table__.c])  # type: ignore[misc]
UserRow = namedtuple("UserRow", [*(column.key for column in User.__table__.c), "clear"])  # type: ignore[misc]
PostMediaRow = namedtuple(  # type: ignore[misc]
    "PostMediaRow", ["parent_post_id", *(column.key for column in Media.__table__.c)]
)
_MEDIA = list(Media.__table__.c)
_EDGE_VIEWER = bindparam("edge_viewer", type_=BigInteger)


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


def _converted(values: Sequence[Any], converters: list[tuple[int, Convert]]) -> list[Any]:
    out = list(values)
    for position, process in converters:
        out[position] = process(out[position])
    return out


@dataclass(frozen=True)
class Shape:
    """Which child loads the page carries."""

    users: bool
    media: bool


@dataclass
class Prepared:
    sql: str
    names: tuple[str, ...]  # the parameters, in positional order
    defaults: dict[str, Any]  # constants of the selection (a follow state, the limit)
    binds: dict[str, Convert]  # bind processors by name
    posts: list[tuple[int, Convert]]
    users: list[tuple[int, Convert]]
    media: list[tuple[int, Convert]]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = [params[name] if name in params else self.defaults[name] for name in self.names]
        return [
            self.binds[name](value) if name in self.binds else value
            for name, value in zip(self.names, values, strict=True)
        ]


_POST_WIDTH = len(Post.__table__.c)
_USER_WIDTH = len(User.__table__.c) + 1  # with `clear`
_AVATAR_WIDTH = len(rows.AVATAR.c)


def statement(page: Select[Any], shape: Shape) -> Select[Any]:
    """The page's posts, then (shape.users) the author's columns, `clear` and the avatar's
    columns, then (shape.media) the post's media rows as one array, in position order."""
    sub = page.with_only_columns(*Post.__table__.c).subquery("page")
    columns: list[Any] = list(sub.c)
    source: Any = sub
    if shape.users:
        columns += [*User.__table__.c, interacts(_EDGE_VIEWER, User.id).label("clear"), *rows.AVATAR.c]
        source = sub.outerjoin(User, User.id == sub.c.author_id).outerjoin(
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
    return select(*columns).select_from(source).order_by(sub.c.id.desc())


# Per page selection (built once by resolvers/feed/pages.py), per shape.
_PREPARED: weakref.WeakKeyDictionary[Select[Any], dict[Shape, Prepared]] = weakref.WeakKeyDictionary()


def prepared(page: Select[Any], shape: Shape, dialect: Dialect) -> Prepared:
    by_shape = _PREPARED.setdefault(page, {})
    found = by_shape.get(shape)
    if found is None:
        compiled = statement(page, shape).compile(dialect=dialect)
        defaults = compiled.construct_params(_check=False)
        found = by_shape[shape] = Prepared(
            sql=compiled.string,
            names=tuple(compiled.positiontup or ()),
            defaults={name: value for name, value in defaults.items() if value is not None},
            binds={name: process for name, process in compiled._bind_processors.items() if callable(process)},
            posts=_converters(list(Post.__table__.c), dialect),
            users=_converters(list(User.__table__.c), dialect),
            media=_converters(_MEDIA, dialect),
        )
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


class JoinedPosts:
    """A `Fetch` for `feed_rows` (resolvers/feed/pages.py): the page's posts as rows, its authors
    and media kept for the child loaders of this request."""

    def __init__(self, ctx: RequestContext, shape: Shape) -> None:
        self.ctx, self.shape = ctx, shape

    async def __call__(self, read: Reader, page: Select[Any], params: Mapping[str, Any]) -> list[Any]:
        ctx = self.ctx
        viewer = ctx.viewer_id if ctx.viewer_id is not None else rows.NO_VIEWER
        async with read() as session:
            conn = await session.connection()
            statement = prepared(page, self.shape, conn.dialect)
            found = await fetch(conn, statement.sql, statement.arguments({**params, "edge_viewer": viewer}))
        return self._rows(statement, found)

    def _rows(self, statement: Prepared, found: list[Any]) -> list[Any]:
        posts = []
        users: dict[int, Any] = {}
        media_of: dict[int, list[Any]] = {}
        avatars = rows.known_media(self.ctx)
        user_end = _POST_WIDTH + _USER_WIDTH
        for record in found:
            values = tuple(record)
            post: Any = PostRow._make(_converted(values[:_POST_WIDTH], statement.posts))
            posts.append(post)
            if self.shape.users and values[_POST_WIDTH] is not None:
                user: Any = UserRow._make(_converted(values[_POST_WIDTH:user_end], statement.users))
                users[user.id] = user
                avatar = values[user_end : user_end + _AVATAR_WIDTH]
                if user.avatar_media_id is not None and avatar[0] is not None:
                    avatars[user.avatar_media_id] = rows.MediaRow._make(_converted(avatar, statement.media))
            if self.shape.media:
                items = values[-1] or ()
                media_of[post.id] = [
                    PostMediaRow._make([post.id, *_converted(item, statement.media)]) for item in items
                ]
        if self.shape.users:
            rows.known_users(self.ctx).update(users)
        if self.shape.media:
            rows.known_post_media(self.ctx).update(media_of)
        return posts


def shape_of(below: Collection[str]) -> Shape | None:
    """The shape for the child loads a plan makes under the page (None: nothing to join)."""
    shape = Shape(users="users_on_edge" in below, media="post_media" in below)
    return shape if shape.users or shape.media else None


# Any page statement beside the feed's (execution/message_page.py, activity_page.py): built and
# compiled once per shape key and dialect, each row converted column by column.


@dataclass
class Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters, in positional order
    defaults: dict[str, Any]
    binds: dict[str, Convert]
    columns: list[tuple[int, Convert]]  # result processors by position in the row

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = [(name, params[name] if name in params else self.defaults[name]) for name in self.names]
        return [self.binds[name](value) if name in self.binds else value for name, value in values]


_COMPILED: dict[tuple[Any, str], Compiled] = {}


def compiled(key: Any, build: Callable[[], Select[Any]], dialect: Dialect) -> Compiled:
    """The statement `build()` gives for `key` (everything that changes its text), compiled once."""
    found = _COMPILED.get((key, dialect.name))
    if found is None:
        built = build()
        compiled_form = built.compile(dialect=dialect)
        constants = compiled_form.construct_params(_check=False)
        binds = compiled_form._bind_processors.items()
        found = _COMPILED[key, dialect.name] = Compiled(
            sql=compiled_form.string,
            names=tuple(compiled_form.positiontup or ()),
            defaults={name: value for name, value in constants.items() if value is not None},
            binds={name: process for name, process in binds if callable(process)},
            columns=_converters(list(built.selected_columns), dialect),
        )
    return found


async def read_rows(
    ctx: RequestContext, key: Any, build: Callable[[], Select[Any]], params: Mapping[str, Any]
) -> list[list[Any]]:
    """The rows of the statement of `key` on the read session's asyncpg connection, converted."""
    async with ctx.read() as session:
        conn = await session.connection()
        statement = compiled(key, build, conn.dialect)
        found = await fetch(conn, statement.sql, statement.arguments(params))
    return [_converted(tuple(record), statement.columns) for record in found]
