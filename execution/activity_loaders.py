"""Loaders of the activity inbox's plan (schema/activity/activity.py declares them): the page, and each
item's edges. An item arrives with its actors, post, comment, story and message already checked by
resolvers/activity/inbox.py; each edge then applies its type's rule again (execution/batched.py
`Each`), as strawberry's `Edge` does, in one call for the page. On PostgreSQL the page is one
statement (execution/activity_page.py) that checks the same rules in SQL: the edges then give what
it read as it is (`Read`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.context import RequestContext
from execution import activity_page
from execution.batched import Each, Rules
from execution.loaders import BELOW, ChildLoader, RootLoader
from resolvers.activity import inbox as activity_inbox
from resolvers.paging import page_args


async def _activity(ctx: RequestContext, args: dict[str, Any]) -> Any:
    paging = page_args(args.get("first"), args.get("after"))
    if ctx.services.db.is_sqlite:
        return await activity_inbox.activity_page(ctx, paging)
    return await activity_page.activity_page(ctx, paging, args.get(BELOW, frozenset()))


class Read(ChildLoader):
    """An item's edge as `each` gives it, but the objects the page's statement read and checked
    (execution/activity_page.py `checked`: the same rules) are given as they are."""

    def __init__(self, each: Each, listed: bool = False) -> None:
        self.each, self.default, self.listed = (
            each,
            each.default,
            listed,
        )  # listed: keys are tuples of objects

    async def load(self, ctx: RequestContext, keys: Sequence[Any], args: dict[str, Any]) -> Mapping[Any, Any]:
        known = activity_page.checked(ctx)
        if self.listed:
            found = {key: list(key) for key in keys if all(id(item) in known for item in key)}
        else:
            found = {key: key for key in keys if id(key) in known}
        rest = [key for key in keys if key not in found]
        if rest:
            found.update(await self.each.load(ctx, rest, args))
        return found


async def _itself(ctx: RequestContext, key: Any) -> Any:
    return key


async def _listed(ctx: RequestContext, key: tuple[Any, ...]) -> list[Any]:
    return list(key)


async def _unseen_count(ctx: RequestContext, args: dict[str, Any]) -> int:
    return await activity_inbox.unseen_count(ctx)


ROOTS: dict[str, RootLoader] = {"activity": _activity, "activity_unseen_count": _unseen_count}
CHILDREN: dict[str, ChildLoader] = {
    # Keyed by the item's objects themselves (its actors as a tuple).
    "activity_actors": Read(Each(_listed, Rules.interacting_user, default=()), listed=True),
    "activity_post": Read(Each(_itself, Rules.post)),
    "activity_comment": Read(Each(_itself, Rules.comment)),
    "activity_story": Read(Each(_itself, Rules.story)),
    "activity_message": Read(Each(_itself, Rules.message)),
}
NODES: dict[str, Any] = {"Activity": activity_inbox.visible_activity}
