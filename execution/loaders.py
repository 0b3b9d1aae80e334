"""The loaders plans name (schema/planning.py `Root("...")`, `Child("...")`), by name.

A root loader takes the field's arguments (GraphQL names, coerced) and gives the field's value;
a child loader maps the keys of all parents at one depth to values, in one statement. Each
reuses the domain's own page selection, loaders' statements and visibility rules (resolvers/),
so both executors apply one rule. A loader may raise anything: the request then runs on
strawberry, which reports the error with its code and path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.context import RequestContext
from core.ids import from_global_id
from execution import joined, profile_pages, rows
from resolvers.accounts.users import FollowerCount, FollowingCount, findable_user, user_by_username
from resolvers.feed.pages import Fetch, core_posts, feed_rows
from resolvers.feed.ranked import ranked_page
from resolvers.paging import PageArgs, check_size, page_args, page_from_rows
from resolvers.posts.comments import comments_page, visible_comment_count
from resolvers.posts.posts import PostCount, PostRowsByAuthor, ViewerLiked, author_posts, visible_post
from resolvers.posts.saved import ViewerSaved
from schema.feed.order import FeedOrder


@dataclass(frozen=True)
class Tagged:
    """A value of an abstract field: its concrete type's name and its row."""

    type_name: str
    row: Any


class NodeNotPlanned(Exception):
    """`node(id:)` of a type without a planned loader: the request runs on strawberry."""


RootLoader = Callable[[RequestContext, dict[str, Any]], Awaitable[Any]]


class ChildLoader:
    """Keys of all parents at one depth -> values; `default` for a key the mapping lacks."""

    default: Any = None

    async def load(self, ctx: RequestContext, keys: Sequence[Any], args: dict[str, Any]) -> Mapping[Any, Any]:
        raise NotImplementedError


# A root loader's argument (no GraphQL name starts with "__"): the Child loaders the plan runs
# under the root field, so that a root may read them in its own statement.
BELOW = "__below"


async def _feed(ctx: RequestContext, args: dict[str, Any]) -> Any:
    first, after = args.get("first"), args.get("after")
    if args.get("order") is FeedOrder.RANKED:
        return await ranked_page(ctx, PageArgs(check_size(first, "first", default=20)), after or None)
    # The domain's selection, its posts as Core rows (no ORM objects to build or prime); on
    # PostgreSQL with their authors and media in the same statement (execution/joined.py).
    paging = page_args(first, after)
    shape = joined.shape_of(args.get(BELOW, ())) if not ctx.services.db.is_sqlite else None
    fetch: Fetch = joined.JoinedPage(ctx, shape) if shape is not None else core_posts
    posts = await feed_rows(ctx, paging, fetch)
    return page_from_rows([(post.id, post) for post in posts], paging)


# `node(id:)` of this module's types: type name -> the visible row, or None.
NODES: dict[str, Callable[[RequestContext, int], Awaitable[Any]]] = {
    "Post": visible_post,
    "User": findable_user,
}
# Every planned type's, this module's and each area's (execution/registry.py fills it).
PLANNED_NODES: dict[str, Callable[[RequestContext, int], Awaitable[Any]]] = {}


async def _node(ctx: RequestContext, args: dict[str, Any]) -> Tagged | None:
    parsed = from_global_id(str(args["id"]))
    if parsed is None:
        return None
    type_name, key = parsed
    if type_name == "Post" and profile_pages.fast(ctx):  # with the counts the document selects
        comments = rows.below_arguments(ctx, "post_comments")
        post = await profile_pages.visible_post(ctx, key, args.get(BELOW, ()), comments)
        if post is not None:
            return Tagged(type_name, post)
    found = PLANNED_NODES.get(type_name)
    if found is None:
        raise NodeNotPlanned(type_name)  # not planned: the request runs on strawberry
    row = await found(ctx, key)
    return Tagged(type_name, row) if row is not None else None


class NeedsExactRule(Exception):
    """The SQL form of a rule refused a row the exact rule may allow: strawberry decides."""


class UsersOnEdge(ChildLoader):
    """Users reached by an edge (a post's author). The edge's rule is `findable`; the statement
    checks the stricter `interacts`, and any user it refuses sends the request to strawberry."""

    async def load(self, ctx: RequestContext, keys: Sequence[int], args: dict[str, Any]) -> Mapping[int, Any]:
        found = await rows.users_on_edge(ctx, keys)
        if not all(row.clear for row in found.values()):
            raise NeedsExactRule("a user on an edge is in a blocked pair with the viewer")
        return found


class MediaOfPosts(ChildLoader):
    default: Any = ()

    async def load(self, ctx: RequestContext, keys: Sequence[int], args: dict[str, Any]) -> Mapping[int, Any]:
        return await rows.media_of_posts(ctx, keys)


class MediaByIdLoader(ChildLoader):
    async def load(self, ctx: RequestContext, keys: Sequence[int], args: dict[str, Any]) -> Mapping[int, Any]:
        return await rows.media_by_id(ctx, keys)


PerParentFn = Callable[[RequestContext, Any, dict[str, Any]], Awaitable[Any]]


class PerParent(ChildLoader):
    """The domain's own function for each parent, all awaited together: the DataLoaders it uses
    batch them, so the statements do not grow with the number of parents."""

    def __init__(self, fn: PerParentFn, default: Any = None, alone: PerParentFn | None = None) -> None:
        self.fn = fn
        self.default = default
        self.alone = alone  # for a single parent (a profile, a post): its page in one statement

    async def load(self, ctx: RequestContext, keys: Sequence[Any], args: dict[str, Any]) -> Mapping[Any, Any]:
        if self.alone is not None and len(keys) == 1:
            return {keys[0]: await self.alone(ctx, keys[0], args)}
        values = await asyncio.gather(*(self.fn(ctx, key, args) for key in keys))
        return dict(zip(keys, values, strict=True))


async def _user_posts(ctx: RequestContext, user: Any, args: dict[str, Any]) -> Any:
    return await author_posts(ctx, user, page_args(args.get("first"), args.get("after")), PostRowsByAuthor)


async def _profile_posts(ctx: RequestContext, user: Any, args: dict[str, Any]) -> Any:
    """One user's posts: in one statement when the user was read with its rules answered."""
    if profile_pages.fast(ctx):
        paging = page_args(args.get("first"), args.get("after"))
        page = await profile_pages.profile_posts(ctx, user, paging, args.get(BELOW, ()))
        if page is not None:
            return page
    return await _user_posts(ctx, user, args)


async def _post_comments(ctx: RequestContext, post: Any, args: dict[str, Any]) -> Any:
    return await comments_page(ctx, post, page_args(args.get("first"), args.get("after")))


async def _one_posts_comments(ctx: RequestContext, post: Any, args: dict[str, Any]) -> Any:
    """One post's comments: with their authors in one statement."""
    if profile_pages.fast(ctx):
        paging = page_args(args.get("first"), args.get("after"))
        return await profile_pages.post_comments(ctx, post, paging, args.get(BELOW, ()))
    return await _post_comments(ctx, post, args)


async def _user(ctx: RequestContext, args: dict[str, Any]) -> Any:
    if profile_pages.fast(ctx):  # the user with its rules, counts and avatar in one statement
        user = await profile_pages.profile_user(
            ctx, str(args["username"]), args.get(BELOW, ()), rows.below_arguments(ctx, "user_posts")
        )
        if user is not None:
            return user
    return await user_by_username(ctx, str(args["username"]))


class Flags(ChildLoader):
    """A per-viewer flag of each post (liked, saved): the domain loader's own statement."""

    default: Any = False

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    async def load(self, ctx: RequestContext, keys: Sequence[int], args: dict[str, Any]) -> Mapping[int, Any]:
        found: Mapping[int, Any] = await self.loader(ctx).fetch(keys)
        return found


ROOTS: dict[str, RootLoader] = {"feed": _feed, "node": _node, "user": _user}
CHILDREN: dict[str, ChildLoader] = {
    "users_on_edge": UsersOnEdge(),
    "post_media": MediaOfPosts(),
    "media_by_id": MediaByIdLoader(),
    "viewer_liked": Flags(ViewerLiked),
    "viewer_saved": Flags(ViewerSaved),
    "user_posts": PerParent(_user_posts, alone=_profile_posts),
    "post_comments": PerParent(_post_comments, alone=_one_posts_comments),
    "comment_count": PerParent(lambda ctx, post, args: visible_comment_count(ctx, post), 0),
    "follower_count": PerParent(lambda ctx, user, args: FollowerCount(ctx).load(user.id), 0),
    "following_count": PerParent(lambda ctx, user, args: FollowingCount(ctx).load(user.id), 0),
    "post_count": PerParent(lambda ctx, user, args: PostCount(ctx).load(user.id), 0),
}
