"""The loaders plans name (schema/planning.py `Root("...")`, `Child("...")`), by name.

A root loader takes the field's arguments (GraphQL names, coerced) and gives the field's value;
a child loader maps the keys of all parents at one depth to values, in one statement. Each
reuses the domain's own page selection, loaders' statements and visibility rules (resolvers/),
so both executors apply one rule. A loader may raise anything: the request then runs on
strawberry, which reports the error with its code and path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.context import RequestContext
from core.ids import from_global_id
from resolvers.feed import feed_page
from resolvers.media import MediaById
from resolvers.paging import PageArgs, check_size, page_args
from resolvers.posts import PostMediaRows, ViewerLiked, visible_post
from resolvers.ranked_feed import ranked_page
from resolvers.saved_posts import ViewerSaved
from resolvers.users import UserById, findable, findable_user
from schema.feed_order import FeedOrder


@dataclass(frozen=True)
class Tagged:
    """A value of an abstract field: its concrete type's name and its row."""

    type_name: str
    row: Any


RootLoader = Callable[[RequestContext, dict[str, Any]], Awaitable[Any]]


class ChildLoader:
    """Keys of all parents at one depth -> values; `default` for a key the mapping lacks."""

    default: Any = None

    async def load(self, ctx: RequestContext, keys: Sequence[Any], args: dict[str, Any]) -> Mapping[Any, Any]:
        raise NotImplementedError


async def _feed(ctx: RequestContext, args: dict[str, Any]) -> Any:
    first, after = args.get("first"), args.get("after")
    if args.get("order") is FeedOrder.RANKED:
        return await ranked_page(ctx, PageArgs(check_size(first, "first", default=20)), after or None)
    return await feed_page(ctx, page_args(first, after))


# `node(id:)` of the other planned types: type name -> the visible row (execution/registry.py
# fills it with each area's `NODES`).
NODES: dict[str, Callable[[RequestContext, int], Awaitable[Any]]] = {}


async def _node(ctx: RequestContext, args: dict[str, Any]) -> Tagged | None:
    parsed = from_global_id(str(args["id"]))
    if parsed is None:
        return None
    type_name, key = parsed
    if type_name == "Post":
        post = await visible_post(ctx, key)
        return Tagged("Post", post) if post is not None else None
    if type_name == "User":
        user = await findable_user(ctx, key)
        return Tagged("User", user) if user is not None else None
    found = NODES.get(type_name)
    if found is None:
        return Tagged(type_name, None)  # not planned: the request runs on strawberry
    row = await found(ctx, key)
    return Tagged(type_name, row) if row is not None else None


class UsersOnEdge(ChildLoader):
    """Users reached by an edge (a post's author): only those the viewer may find (`findable`)."""

    async def load(self, ctx: RequestContext, keys: Sequence[int], args: dict[str, Any]) -> Mapping[int, Any]:
        found = await UserById(ctx).fetch(keys)
        users = [user for user in found.values() if user is not None]
        for user in users:
            UserById(ctx).prime(user.id, user)
        allowed = await findable(ctx, users)
        return {user.id: user for user, ok in zip(users, allowed, strict=True) if ok}


class MediaOfPosts(ChildLoader):
    default: Any = ()

    async def load(self, ctx: RequestContext, keys: Sequence[int], args: dict[str, Any]) -> Mapping[int, Any]:
        return await PostMediaRows(ctx).fetch(keys)


class MediaByIdLoader(ChildLoader):
    async def load(self, ctx: RequestContext, keys: Sequence[int], args: dict[str, Any]) -> Mapping[int, Any]:
        return await MediaById(ctx).fetch(keys)


class Flags(ChildLoader):
    """A per-viewer flag of each post (liked, saved): the domain loader's own statement."""

    default: Any = False

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    async def load(self, ctx: RequestContext, keys: Sequence[int], args: dict[str, Any]) -> Mapping[int, Any]:
        found: Mapping[int, Any] = await self.loader(ctx).fetch(keys)
        return found


ROOTS: dict[str, RootLoader] = {"feed": _feed, "node": _node}
CHILDREN: dict[str, ChildLoader] = {
    "users_on_edge": UsersOnEdge(),
    "post_media": MediaOfPosts(),
    "media_by_id": MediaByIdLoader(),
    "viewer_liked": Flags(ViewerLiked),
    "viewer_saved": Flags(ViewerSaved),
}
