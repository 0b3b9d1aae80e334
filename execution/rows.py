"""Child loads as SQLAlchemy Core statements returning tuples (named rows), not ORM objects.

Each is one statement for every parent at its depth. Named rows read like the ORM objects the
declarations were written against (`row.username`), because the columns keep the models'
attribute names. Nothing here is primed into the request's ORM loaders: strawberry's resolvers
must keep seeing ORM objects.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import BigInteger, Select, bindparam, select

from core.context import RequestContext
from core.sql import ids_in
from models import Media, PostMedia, User
from resolvers.visibility_sql import interacts

NO_VIEWER = 0  # no account has this id: `interacts(NO_VIEWER, ...)` is "not suspended"

# A media row read alongside another (a user's avatar): the media table's columns by name, like
# the rows of `media_by_id`.
MediaRow = namedtuple("MediaRow", [column.key for column in Media.__table__.c])  # type: ignore[misc]
AVATAR = Media.__table__.alias("avatar")
_AVATAR_COLUMNS = [column.label(f"avatar__{column.key}") for column in AVATAR.c]


class KnownMedia:
    """The request's media rows already read (avatars joined to their users): `media_by_id`
    answers these without a statement. Keyed in `ctx.loaders` by this class."""


class KnownUsers:
    """Users on an edge already read with the page (execution/joined.py), with `clear`:
    `users_on_edge` answers these without a statement."""


class KnownPostMedia:
    """Each post's media already read with the page (execution/joined.py), [] for none:
    `media_of_posts` answers these without a statement."""


class BelowArguments:
    """The arguments of the Child fields under the root field being loaded, by loader name (None
    when absent, or asked twice with different arguments), set by execution/run.py: a root or a
    node's lookup that reads a child's page in its own statement needs them. Keyed in
    `ctx.loaders` by this class."""


def below_arguments(ctx: RequestContext, loader: str) -> dict[str, Any] | None:
    found: Callable[[str], dict[str, Any] | None] | None = ctx.loaders.get(BelowArguments)
    return found(loader) if found is not None else None


_BUILT: dict[tuple[str, bool], Select[Any]] = {}


def _users_statement(postgres: bool) -> Select[Any]:
    stmt = _BUILT.get(("users", postgres))
    if stmt is None:
        viewer = bindparam("viewer", type_=BigInteger)
        stmt = _BUILT["users", postgres] = (
            select(*User.__table__.c, interacts(viewer, User.id).label("clear"), *_AVATAR_COLUMNS)
            .outerjoin(AVATAR, AVATAR.c.id == User.avatar_media_id)
            .where(ids_in(User.id, postgres=postgres))
        )
    return stmt  # type: ignore[return-value]


def _post_media_statement(postgres: bool) -> Select[Any]:
    stmt = _BUILT.get(("post_media", postgres))
    if stmt is None:
        stmt = _BUILT["post_media", postgres] = (
            select(PostMedia.post_id.label("parent_post_id"), *Media.__table__.c)
            .join(Media, Media.id == PostMedia.media_id)
            .where(ids_in(PostMedia.post_id, postgres=postgres))
            .order_by(PostMedia.post_id, PostMedia.position)
        )
    return stmt


def known_media(ctx: RequestContext) -> dict[int, Any]:
    known: dict[int, Any] = ctx.loaders.setdefault(KnownMedia, {})
    return known


def keep_avatar(
    known: dict[int, Any],
    user: Any,
    avatar: Sequence[Any],
    convert: Callable[[Sequence[Any]], Sequence[Any]] = tuple,
) -> None:
    """The user's avatar media row read in the same statement as the user (all None: none),
    kept in `known_media` for `media_by_id`; `convert` turns the raw values into the row's."""
    if user.avatar_media_id is not None and avatar and avatar[0] is not None:
        known[user.avatar_media_id] = MediaRow._make(convert(avatar))


def known_users(ctx: RequestContext) -> dict[int, Any]:
    known: dict[int, Any] = ctx.loaders.setdefault(KnownUsers, {})
    return known


def known_post_media(ctx: RequestContext) -> dict[int, list[Any]]:
    known: dict[int, list[Any]] = ctx.loaders.setdefault(KnownPostMedia, {})
    return known


def _split(known: Mapping[int, Any], ids: Sequence[int]) -> tuple[dict[int, Any], list[int]]:
    """(what `known` answers, the ids left for a statement)."""
    return {key: known[key] for key in ids if key in known}, [key for key in ids if key not in known]


async def users_on_edge(ctx: RequestContext, ids: Sequence[int]) -> Mapping[int, Any]:
    """The users an edge leads to (a post's author), each with `clear`: `interacts` with the
    viewer (no block either way, not suspended). A user that is not clear may still be findable
    (the viewer blocked them): the caller leaves those to strawberry's exact rule. Each avatar's
    media row comes in the same statement (kept for `media_by_id`). Users read with the page
    (`KnownUsers`) cost no statement."""
    found, missing = _split(known_users(ctx), ids)
    if not missing:
        return found
    stmt = _users_statement(not ctx.services.db.is_sqlite)
    params = {"viewer": ctx.viewer_id if ctx.viewer_id is not None else NO_VIEWER, "ids": missing}
    known = known_media(ctx)
    width = len(User.__table__.c) + 1
    async with ctx.read() as session:
        for row in (await session.execute(stmt, params)).all():
            found[row.id] = row
            keep_avatar(known, row, row[width:])
    return found


async def media_of_posts(ctx: RequestContext, post_ids: Sequence[int]) -> Mapping[int, list[Any]]:
    """Each post's media in the author's order (the statement of resolvers/posts.PostMediaRows);
    those read with the page (`KnownPostMedia`) cost no statement."""
    found, missing = _split(known_post_media(ctx), post_ids)
    if not missing:
        return found
    stmt = _post_media_statement(not ctx.services.db.is_sqlite)
    async with ctx.read() as session:
        for row in (await session.execute(stmt, {"ids": missing})).all():
            found.setdefault(row.parent_post_id, []).append(row)
    return found


async def media_by_id(ctx: RequestContext, ids: Sequence[int]) -> Mapping[int, Any]:
    """Media rows by id: those already read (`KnownMedia`) without a statement."""
    found, missing = _split(known_media(ctx), ids)
    if not missing:
        return found
    postgres = not ctx.services.db.is_sqlite
    stmt = _BUILT.get(("media", postgres))
    if stmt is None:
        stmt = _BUILT["media", postgres] = select(*Media.__table__.c).where(
            ids_in(Media.id, postgres=postgres)
        )
    async with ctx.read() as session:
        found.update((row.id, row) for row in (await session.execute(stmt, {"ids": missing})).all())
    return found
