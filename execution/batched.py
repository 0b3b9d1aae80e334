"""Child loaders built from what resolvers/ already has, for the areas' plans.

- `Each(fn, rule)`: the value strawberry's resolver computes for one parent (`fn(ctx, key)`, the
  domain function it calls), for every parent at once: the calls run together, so their request
  loaders batch as strawberry's concurrent fields do and the statements stay as many. Then the
  edge's rule (`schema/edges.py`: the target type's `visible`), on all values at once: a refused
  object is absent (null on a nullable edge; on a non-null one strawberry answers NOT_FOUND, so
  the plan gives up and strawberry runs), a refused item leaves its list.
- `Loaded(loader)`: a per-viewer value from a request loader, through its cache.
- `Rules`: the edges' rules, each a function of resolvers/ over rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.context import RequestContext
from execution.loaders import ChildLoader
from resolvers.accounts.users import UserById, findable, interacting
from resolvers.conversations import conversations, messages
from resolvers.paging import Page
from resolvers.posts import comments, posts
from resolvers.stories import stories

Rule = Callable[[RequestContext, list[Any]], Awaitable[list[bool]]]


async def _interacting(ctx: RequestContext, users: list[Any]) -> list[bool]:
    return await interacting(ctx, [user.id for user in users])


async def _reaction_users(ctx: RequestContext, reactions: list[Any]) -> list[bool]:
    return await interacting(ctx, [reaction.user_id for reaction in reactions])


async def _member_of(ctx: RequestContext, rows: list[Any]) -> list[bool]:
    return await conversations.member_of(ctx, [row.id for row in rows])


class Rules:
    """`UserType.visible`, `UserType.interacting`, `StoryType.visible`, ... over rows."""

    user: Rule = findable
    interacting_user: Rule = _interacting
    interacting_reaction: Rule = _reaction_users  # `MessageReactionType.visible`
    story: Rule = stories.reachable
    post: Rule = posts.visible_posts
    comment: Rule = comments.visible_comments
    message: Rule = messages.readable_messages
    conversation: Rule = _member_of


class Each(ChildLoader):
    def __init__(
        self,
        fn: Callable[[RequestContext, Any], Awaitable[Any]],
        rule: Rule | None = None,
        default: Any = None,
    ) -> None:
        self.fn, self.rule, self.default = fn, rule, default

    async def load(self, ctx: RequestContext, keys: Sequence[Any], args: dict[str, Any]) -> Mapping[Any, Any]:
        values = await asyncio.gather(*(self.fn(ctx, key) for key in keys))
        found = {key: value for key, value in zip(keys, values, strict=True) if value is not None}
        if self.rule is None:
            return found
        shown = await admitted(ctx, self.rule, list(found.values()))
        return {
            key: [item for item in value if id(item) in shown] if isinstance(value, list) else value
            for key, value in found.items()
            if isinstance(value, list) or id(value) in shown
        }


async def admitted(ctx: RequestContext, rule: Rule, values: list[Any]) -> set[int]:
    """The `id()`s of the objects (values, or items of list values) the rule admits, in one call."""
    objects = [item for value in values for item in (value if isinstance(value, list) else [value])]
    if not objects:
        return set()
    return {id(item) for item, ok in zip(objects, await rule(ctx, objects), strict=True) if ok}


class Loaded(ChildLoader):
    """A request loader's value per key, through its cache (what a page primed costs nothing);
    `convert` turns it into the field's value."""

    def __init__(self, loader: Any, default: Any = None, convert: Callable[[Any], Any] | None = None) -> None:
        self.loader, self.default, self.convert = loader, default, convert

    async def load(self, ctx: RequestContext, keys: Sequence[Any], args: dict[str, Any]) -> Mapping[Any, Any]:
        values = await self.loader(ctx).load_many(keys)
        convert = self.convert
        return {key: convert(value) if convert else value for key, value in zip(keys, values, strict=True)}


async def _user(ctx: RequestContext, user_id: int) -> Any:
    return await UserById(ctx).load(user_id)


def users_on(rule: Rule) -> Each:
    """Users by id, through `UserById`'s cache, as an edge with `rule` shows them."""
    return Each(_user, rule)


@dataclass(frozen=True)
class ShownPage:
    """A page as strawberry's connection holds it when it filters the page's items: the items shown
    (`shown`: (cursor, item)) and the page as loaded (`page`, whose cursors `pageInfo` reads)."""

    page: Page[Any]
    shown: list[tuple[str, Any]]
