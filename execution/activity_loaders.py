"""Loaders of the activity inbox's plan (schema/activity/activity.py declares them): the page, and each
item's edges. An item arrives with its actors, post, comment, story and message already checked by
resolvers/activity/inbox.py; each edge then applies its type's rule again (execution/batched.py
`Each`), as strawberry's `Edge` does, in one call for the page."""

from __future__ import annotations

from typing import Any

from core.context import RequestContext
from execution.batched import Each, Rules
from execution.loaders import ChildLoader, RootLoader
from resolvers.activity import inbox as activity_inbox
from resolvers.paging import page_args


async def _activity(ctx: RequestContext, args: dict[str, Any]) -> Any:
    return await activity_inbox.activity_page(ctx, page_args(args.get("first"), args.get("after")))


async def _itself(ctx: RequestContext, key: Any) -> Any:
    return key


async def _listed(ctx: RequestContext, key: tuple[Any, ...]) -> list[Any]:
    return list(key)


async def _unseen_count(ctx: RequestContext, args: dict[str, Any]) -> int:
    return await activity_inbox.unseen_count(ctx)


ROOTS: dict[str, RootLoader] = {"activity": _activity, "activity_unseen_count": _unseen_count}
CHILDREN: dict[str, ChildLoader] = {
    # Keyed by the item's objects themselves (its actors as a tuple).
    "activity_actors": Each(_listed, Rules.interacting_user, default=()),
    "activity_post": Each(_itself, Rules.post),
    "activity_comment": Each(_itself, Rules.comment),
    "activity_story": Each(_itself, Rules.story),
    "activity_message": Each(_itself, Rules.message),
}
NODES: dict[str, Any] = {"Activity": activity_inbox.visible_activity}
