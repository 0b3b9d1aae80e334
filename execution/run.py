"""Running a plan: load level by level in a fixed number of statements, then project synchronously.

Loading walks the plan breadth first. Each `Root` or `Child` field runs its loader once for every
parent at its depth (one statement per planned field, whatever the page size); `Pure` fields
that await (signed URLs) are awaited here too, so that the projection after it is plain function
calls building dicts. Anything unexpected raises, and the caller reruns the request on
strawberry: a null where the type forbids one (`NullInNonNull`), a type the plan does not hold,
an error from a loader.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from graphql.execution.values import VariableValues, get_argument_values

from core.context import RequestContext
from core.ids import to_global_id
from execution.loaders import BELOW, Tagged
from execution.plan import TYPENAME, FieldPlan, ObjectPlan, Plan
from execution.registry import CHILDREN, ROOTS
from execution.rows import BelowArguments
from schema.planning import Child, Column, GlobalId, Pure, Root


class NullInNonNull(Exception):
    pass


class NotPlanned(Exception):
    """A value of a concrete type the plan does not hold."""


@dataclass
class Env:
    ctx: RequestContext
    variables: VariableValues
    loaded: list[Any] = field(default_factory=list)  # by FieldPlan.index
    awaited: dict[tuple[int, int], Any] = field(default_factory=dict)  # (id(field), id(parent))


Getter = Callable[[Any, Env], Any]


def _getter(plan: FieldPlan, type_name: str = "") -> Getter:
    declaration = plan.declaration
    if isinstance(declaration, GlobalId):
        return lambda source, env: to_global_id(type_name, source.id)
    if isinstance(declaration, Column):
        read = attrgetter(declaration.attr)
        return lambda source, env: read(source)
    if isinstance(declaration, Pure):
        fn = declaration.fn
        if inspect.iscoroutinefunction(fn):
            marker = id(plan)
            return lambda source, env: env.awaited[marker, id(source)]
        return lambda source, env: fn(source, env.ctx)
    if isinstance(declaration, Child):
        key, index, default = declaration.key, plan.index, CHILDREN[declaration.loader].default
        return lambda source, env: env.loaded[index].get(key(source), default)
    if isinstance(declaration, Root):
        index = plan.index
        return lambda source, env: env.loaded[index]
    raise NotPlanned(plan.name)


def _items(value: Any, depth: int) -> list[Any]:
    """The objects inside `depth` levels of lists (None left out)."""
    values = [value]
    for _ in range(depth):
        values = [item for inner in values if inner is not None for item in inner]
    return [item for item in values if item is not None]


async def load(plan: Plan, env: Env) -> None:
    env.loaded = [None] * len(plan.loads)
    level: list[tuple[ObjectPlan, list[Any]]] = [(plan.root, [None])]
    while level:
        following: list[tuple[ObjectPlan, list[Any]]] = []
        for obj, sources in level:
            for field_plan in obj.fields:
                await _load_field(field_plan, sources, env)
                if not field_plan.objects:
                    continue
                get = _getter(field_plan)
                children = [
                    item for source in sources for item in _items(get(source, env), field_plan.shape.depth)
                ]
                if field_plan.abstract:
                    for type_name, child in field_plan.objects.items():
                        rows = [item.row for item in children if item.type_name == type_name]
                        following.append((child, rows))
                else:
                    following.append((next(iter(field_plan.objects.values())), children))
        level = following


async def _load_field(plan: FieldPlan, sources: list[Any], env: Env) -> None:
    declaration = plan.declaration
    if isinstance(declaration, Root):
        args = _arguments(plan, env)
        if plan.below:
            args = {**args, BELOW: plan.below}  # what the root may read alongside (one statement)
        # This root's child fields' arguments, for a root or node lookup that reads their pages alongside.
        env.ctx.loaders[BelowArguments] = lambda loader: _below_arguments(plan, loader, env)
        env.loaded[plan.index] = await ROOTS[declaration.loader](env.ctx, args)
    elif isinstance(declaration, Child):
        keys = {key for key in map(declaration.key, sources) if key is not None}
        loader = CHILDREN[declaration.loader]
        args = _arguments(plan, env)
        if plan.below:
            args = {**args, BELOW: plan.below}  # what a child page may read alongside its rows
        env.loaded[plan.index] = await loader.load(env.ctx, list(keys), args) if keys else {}
    elif isinstance(declaration, Pure) and inspect.iscoroutinefunction(declaration.fn):
        for source in sources:
            env.awaited[id(plan), id(source)] = await declaration.fn(source, env.ctx)


def _below_arguments(plan: FieldPlan, loader: str, env: Env) -> dict[str, Any] | None:
    """The arguments of the `loader` fields under `plan`, if there is one set of them."""
    found = [_arguments(child, env) for child in plan.below_fields.get(loader, ())]
    return found[0] if found and all(args == found[0] for args in found) else None


def _arguments(plan: FieldPlan, env: Env) -> dict[str, Any]:
    if plan.definition is None or not plan.definition.args:
        return {}
    return get_argument_values(plan.definition, plan.node, env.variables)


Projector = Callable[[Any, Env], Any]


def projector(obj: ObjectPlan) -> Projector:
    """A function building the response dict of one object from its source."""
    steps: list[tuple[str, Projector]] = []
    for field_plan in obj.fields:
        if field_plan.name == TYPENAME:
            type_name = obj.type_name
            steps.append((field_plan.key, lambda source, env, name=type_name: name))  # type: ignore[misc]
        else:
            steps.append((field_plan.key, _field(field_plan, obj.type_name)))

    def project(source: Any, env: Env) -> dict[str, Any]:
        return {key: step(source, env) for key, step in steps}

    return project


def _field(plan: FieldPlan, type_name: str) -> Projector:
    get = _getter(plan, type_name)
    complete = _completer(plan)
    nullable = plan.shape.nullable

    def at(value: Any, env: Env, level: int) -> Any:
        if value is None:
            if nullable[level]:
                return None
            raise NullInNonNull(plan.key)
        if level == len(nullable) - 1:
            return complete(value, env)
        return [at(item, env, level + 1) for item in value]

    return lambda source, env: at(get(source, env), env, 0)


def _completer(plan: FieldPlan) -> Callable[[Any, Env], Any]:
    if plan.serialize is not None:
        serialize = plan.serialize
        return lambda value, env: serialize(value)
    projectors = {name: projector(child) for name, child in plan.objects.items()}
    if plan.abstract:

        def concrete(value: Tagged, env: Env) -> Any:
            project = projectors.get(value.type_name)
            if project is None:
                raise NotPlanned(value.type_name)
            return project(value.row, env)

        return concrete
    return next(iter(projectors.values()))


@dataclass
class Compiled:
    plan: Plan
    project: Projector

    @classmethod
    def of(cls, plan: Plan) -> Compiled:
        return cls(plan, projector(plan.root))

    async def run(self, ctx: RequestContext, variables: VariableValues) -> dict[str, Any]:
        env = Env(ctx, variables)
        await load(self.plan, env)
        if ctx.shared_read is not None:
            await ctx.shared_read.release()  # the connection goes back before the projection
        result: dict[str, Any] = self.project(None, env)
        return result
