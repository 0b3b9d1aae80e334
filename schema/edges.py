"""Edges: every field that leads from one object to another shows its target only to a viewer the
target's own rule admits (ARCHITECTURE.md, Visibility: "every edge").

A field declares itself an edge with `extensions=[Edge()]`. Whatever its resolver returns (one object,
a list, or a connection page) then passes the rule of the target's type: the type's `visible`
classmethod, which asks the batched functions of resolvers/ (built on resolvers/visibility.py), so a
page costs the same fixed statements whatever its size. What the rule refuses is null on a nullable
edge, left out of a list or a page, and NOT_FOUND on a non-null edge (the parent goes with it).

Resolvers keep choosing what they show (pages filtered in SQL, counts that agree with them); the
edge is the net under them: an object reached from one the viewer could see, or from an idempotent
replay, is never shown unless the viewer may see it now. `tests/test_edge_visibility.py` walks the
served schema and fails on any object-typed field that is neither an edge nor a declared part of its
parent (a post's media, a page's `pageInfo`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from strawberry.extensions import FieldExtension
from strawberry.types.base import StrawberryOptional, has_object_definition

from core.context import RequestContext
from core.errors import NotFound

if TYPE_CHECKING:
    from strawberry.types import Info
    from strawberry.types.field import StrawberryField

# Which of the items (objects of one target type) the viewer may see, position by position.
Rule = Callable[[RequestContext, list[Any]], Awaitable[list[bool]]]


class Edge(FieldExtension):
    """The field's target passes its type's `visible` rule (or `rule`, where the edge has a stricter
    one: a story's viewers cross no block in either direction)."""

    def __init__(self, rule: Rule | None = None) -> None:
        self.rule = rule

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    @cached_property
    def nullable(self) -> bool:
        return isinstance(self.field.type, StrawberryOptional)

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: Info[RequestContext, None], **kwargs: Any
    ) -> Any:
        value = next_(source, info, **kwargs)
        if inspect.isawaitable(value):
            value = await value
        return await self.admit(info.context, value)

    async def admit(self, ctx: RequestContext, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return [item for item, ok in zip(value, await self.shown(ctx, value), strict=True) if ok]
        edges = getattr(value, "edges", None)
        if isinstance(edges, list):  # a connection: its page, without what the rule refuses
            shown = await self.shown(ctx, [edge.node for edge in edges])
            return dataclasses.replace(
                value, edges=[edge for edge, ok in zip(edges, shown, strict=True) if ok]
            )
        if (await self.shown(ctx, [value]))[0]:
            return value
        if self.nullable:
            return None
        raise NotFound(_type_name(value))

    async def shown(self, ctx: RequestContext, items: Sequence[Any]) -> list[bool]:
        if self.rule is not None:
            return await self.rule(ctx, list(items))
        groups: dict[Any, list[int]] = {}
        for index, item in enumerate(items):
            groups.setdefault(type(item), []).append(index)
        answers = await asyncio.gather(
            *(kind.visible(ctx, [items[i] for i in where]) for kind, where in groups.items())
        )
        result = [False] * len(items)
        for where, answer in zip(groups.values(), answers, strict=True):
            for index, ok in zip(where, answer, strict=True):
                result[index] = ok
        return result


def _type_name(value: Any) -> str:
    if has_object_definition(value):
        return str(value.__strawberry_definition__.name)
    return "Object"
