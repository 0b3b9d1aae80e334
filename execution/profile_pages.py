"""A profile (`user(username:)` with its posts) and a post's comments (`node(id:)` of a Post with
its `comments`) in ONE statement each, on PostgreSQL, signed in, as their floors are.

The parent (the profile's user, the post) is read with the rules its children ask about already
answered in SQL: `interacts` (the user is clear of any block and not suspended) and
`content_visible` (resolvers/visibility_sql.py), the avatar, and the counts the document selects
(the user's posts, the post's comments hidden from the viewer). When the document selects the
parent's page (the root is given its arguments, execution/run.py), the page is a LATERAL join of
the parent in the same statement, through execution/joined.py (its rows with their authors,
avatars, media and hidden counts), joined only where the parent's content may be seen, and kept
for the page's loader (`KnownPages`). A page of a parent read otherwise costs one statement of
its own. Whenever a parent's SQL rule refuses (not clear, not visible, gone), the domain's own
functions (strawberry's path) answer instead: the SQL forms only ever admit what the exact rules
admit. Signed out, and on SQLite, the domain's functions answer throughout.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, null, select

from core.context import RequestContext
from execution import joined, rows
from models import Post, User
from resolvers.accounts.users import username_key
from resolvers.paging import Page, PageArgs, page_args, page_from_rows
from resolvers.posts.comments import HiddenCommentCount, comments_of, hidden_comments
from resolvers.posts.posts import PostCount, post_count_of, posts_of
from resolvers.visibility_sql import content_visible, interacts

ProfileRow = namedtuple("ProfileRow", [*joined.UserRow._fields, "sees", "post_count"])  # type: ignore[misc]
_VIEWER = bindparam("viewer", type_=BigInteger)
_PARENT = bindparam("parent", type_=BigInteger)
_AFTER = bindparam("after", type_=BigInteger)
_NAME = bindparam("name", type_=String)


def fast(ctx: RequestContext) -> bool:
    """These statements apply: PostgreSQL, a signed-in viewer."""
    return ctx.viewer_id is not None and not ctx.services.db.is_sqlite


_SEES = content_visible(_VIEWER, User.id, User.is_private)


def _user_columns(counted: bool) -> tuple[Any, ...]:
    return (
        *User.__table__.c,
        interacts(_VIEWER, User.id).label("clear"),
        _SEES.label("sees"),
        (post_count_of(User.id) if counted else null()).label("post_count"),
        *rows.AVATAR.c,
    )


_SOURCE = User.__table__.outerjoin(rows.AVATAR, rows.AVATAR.c.id == User.avatar_media_id)


def _user_statement(counted: bool) -> Any:
    return select(*_USER_COLUMNS[counted]).select_from(_SOURCE).where(User.username == _NAME)


_USER_COLUMNS = {counted: _user_columns(counted) for counted in (False, True)}
# The user as the parent of its posts page, read in the page's statement (a LATERAL join).
_PARENTS = {
    counted: joined.Parent(_USER_COLUMNS[counted], _SOURCE, _SEES, User.username == _NAME)
    for counted in (False, True)
}


class KnownPages:
    """Child pages read with their parent (`user_posts` of a profile): (loader, parent id, page
    args) -> the page. Keyed in `ctx.loaders` by this class."""


def _known_pages(ctx: RequestContext) -> dict[tuple[str, int, PageArgs], Page[Any]]:
    known: dict[tuple[str, int, PageArgs], Page[Any]] = ctx.loaders.setdefault(KnownPages, {})
    return known


async def profile_user(
    ctx: RequestContext, username: str, below: Collection[str], posts: dict[str, Any] | None = None
) -> Any | None:
    """The user by name with `clear`, `sees` (their content), their post count (when selected)
    and avatar, in one statement, with their posts page (`posts`: its arguments, when selected);
    None when the rule needs the domain's exact form."""
    name = username_key(username)
    if name is None:
        return None
    counted = "post_count" in below
    if posts is None:
        return _user(ctx, await _one(ctx, ("user", counted), _user_statement, {"name": name}), counted)
    page = _ChildPage("user_posts", "profile", posts, _posts_shape(below))
    return await page.with_parent(ctx, _PARENTS[counted], {"name": name}, lambda v: _user(ctx, v, counted))


@dataclass(frozen=True)
class _ChildPage:
    """A parent's page read in the parent's statement: its loader's name (where the page is kept
    for it), its selection (`_page`), its field's arguments and its shape."""

    loader: str
    kind: str
    args: dict[str, Any]
    shape: joined.Shape

    async def with_parent(
        self, ctx: RequestContext, parent: joined.Parent, params: dict[str, Any], make: Make
    ) -> Any | None:
        """The parent (`make` of its columns, converted; None when not found), its page kept when
        the parent is shown and may show it (`sees`), in one statement: the page a LATERAL join
        of the parent (execution/joined.py)."""
        paging = page_args(self.args.get("first"), self.args.get("after"))
        page = _page(self.kind, paging.first, paging.after is not None)
        params = {"viewer": ctx.viewer_id, "edge_viewer": ctx.viewer_id, **params}
        if paging.after is not None:
            params["after"] = paging.after
        async with ctx.read() as session:
            conn = await session.connection()
            statement = joined.prepared(page, self.shape, conn.dialect, parent)
            found = await joined.fetch(conn, statement.sql, statement.arguments(params))
        width = len(parent.columns)
        row = make(
            tuple(joined.converted(tuple(found[0])[-width:], statement.converters["parent"]))
            if found
            else None
        )
        if row is not None and getattr(row, "sees", True):  # a post `make` gives is seen already
            listed = joined.JoinedPage(ctx, self.shape).listed(statement, found)
            _known_pages(ctx)[self.loader, row.id, paging] = page_from_rows(
                [(item.id, item) for item in listed], paging
            )
        return row


Make = Callable[[tuple[Any, ...] | None], Any]


def _posts_shape(below: Collection[str]) -> joined.Shape:
    """A profile's posts carry their media and hidden counts; their author is the profile's user."""
    shape = joined.shape_of(below) or joined.Shape(False, False)
    return joined.Shape(False, shape.media, shape.hidden)


def _user(ctx: RequestContext, values: tuple[Any, ...] | None, counted: bool) -> Any:
    """The user of a row's user columns, converted (None: not found, gone, or for the exact rule)."""
    if values is None:
        return None
    width = len(ProfileRow._fields)
    user: Any = ProfileRow._make(values[:width])
    if user.deleted_at is not None or not user.clear:
        return None
    rows.known_users(ctx)[user.id] = user
    rows.keep_avatar(rows.known_media(ctx), user, values[width:])
    if counted:
        PostCount(ctx).prime(user.id, user.post_count)
    return user


async def _one(
    ctx: RequestContext, shape: tuple[str, bool], build: Any, params: dict[str, Any]
) -> tuple[Any, ...] | None:
    """The first row of the statement `build(shape[1])`, converted; compiled once per shape."""
    found = await joined.read_rows(ctx, shape, lambda: build(shape[1]), {"viewer": ctx.viewer_id, **params})
    return tuple(found[0]) if found else None


_PAGES: dict[tuple[str, int, bool], Any] = {}


def _page(kind: str, first: int, paged: bool) -> Any:
    """A child page's selection, built once per shape: the domain's `candidates` of one parent
    (`posts`, `comments`: by id) or of the enclosing statement's (`profile`, `post_comments`)."""
    stmt = _PAGES.get((kind, first, paged))
    if stmt is None:
        if kind in ("posts", "profile"):
            stmt = posts_of([_PARENT if kind == "posts" else User.id])
            stmt = stmt.order_by(Post.id.desc()).limit(first + 1)
            stmt = stmt.where(Post.id < _AFTER) if paged else stmt
        else:
            stmt = comments_of(joined.EDGE_VIEWER, [_PARENT if kind == "comments" else Post.id])
            stmt = stmt.where(stmt.selected_columns.id > _AFTER) if paged else stmt
            stmt = stmt.order_by(stmt.selected_columns.id).limit(first + 1)
        _PAGES[kind, first, paged] = stmt
    return stmt


async def _joined_page(
    ctx: RequestContext, kind: str, parent: int, paging: PageArgs, shape: joined.Shape
) -> Page[Any]:
    page = _page(kind, paging.first, paging.after is not None)
    params = {"parent": parent, **({"after": paging.after} if paging.after is not None else {})}
    found = await joined.JoinedPage(ctx, shape)(ctx.read, page, params)
    return page_from_rows([(item.id, item) for item in found], paging)


async def profile_posts(
    ctx: RequestContext, user: Any, paging: PageArgs, below: Collection[str]
) -> Page[Any] | None:
    """A profile's posts when its user was read by `profile_user` and may be seen (else None):
    read with the user already, or in a statement of their own."""
    if getattr(user, "sees", None) is not True:
        return None
    known = _known_pages(ctx).get(("user_posts", user.id, paging))
    if known is not None:
        return known
    return await _joined_page(ctx, "posts", user.id, paging, _posts_shape(below))


async def post_comments(
    ctx: RequestContext, post: Any, paging: PageArgs, below: Collection[str]
) -> Page[Any]:
    """A post's comments (the post already visible), with their authors: `comments_of` admits only
    authors `interacts` clears, which is `can_interact`, the page's exact rule. Read with the post
    already, or in a statement of their own."""
    known = _known_pages(ctx).get(("post_comments", post.id, paging))
    if known is not None:
        return known
    return await _joined_page(ctx, "comments", post.id, paging, _comments_shape(below))


def _comments_shape(below: Collection[str]) -> joined.Shape:
    return joined.shape_of(below, joined.COMMENTS) or joined.Shape(False, False, items=joined.COMMENTS)


# The post's author, for `content_visible`: an alias of its own, as a page under the post joins
# its own authors.
_AUTHOR = User.__table__.alias("post_author")
_POST_SEES = content_visible(_VIEWER, Post.author_id, _AUTHOR.c.is_private)
_POST_SOURCE = Post.__table__.join(_AUTHOR, _AUTHOR.c.id == Post.author_id)
_POST_COLUMNS = {
    hidden: (
        *Post.__table__.c,
        _POST_SEES.label("sees"),
        (hidden_comments(_VIEWER, Post.id) if hidden else null()).label("hidden"),
    )
    for hidden in (False, True)
}
# The post as the parent of its comments page, read in the page's statement (a LATERAL join).
_POST_PARENTS = {
    hidden: joined.Parent(_POST_COLUMNS[hidden], _POST_SOURCE, _POST_SEES, Post.id == _PARENT)
    for hidden in (False, True)
}


def _post_statement(hidden: bool) -> Any:
    return select(*_POST_COLUMNS[hidden]).select_from(_POST_SOURCE).where(Post.id == _PARENT)


async def visible_post(
    ctx: RequestContext, post_id: int, below: Collection[str], comments: dict[str, Any] | None = None
) -> Any | None:
    """The post with `sees` (content_visible by its author) and, when selected, its hidden comment
    count, in one statement, with its comments page (`comments`: its arguments, when selected);
    None when the domain's exact rule must decide."""
    hidden = "comment_count" in below
    if comments is None:
        return _post(ctx, await _one(ctx, ("post", hidden), _post_statement, {"parent": post_id}), hidden)
    page = _ChildPage("post_comments", "post_comments", comments, _comments_shape(below))
    return await page.with_parent(
        ctx, _POST_PARENTS[hidden], {"parent": post_id}, lambda v: _post(ctx, v, hidden)
    )


def _post(ctx: RequestContext, values: tuple[Any, ...] | None, hidden: bool) -> Any | None:
    """The post of a row's post columns, converted (None: not found, or for the exact rule)."""
    width = len(Post.__table__.c)
    if values is None or not values[width]:
        return None
    post: Any = joined.PostRow._make(values[:width])
    if hidden:
        HiddenCommentCount(ctx).prime(post.id, values[width + 1])
    return post
