"""A plan: one validated operation's selection, as the declarations of its fields.

Fields are collected as the spec's CollectFields does (fragments, inline fragments, aliases,
fields merged by response key), with `@skip`/`@include` already decided: a plan holds for one
set of values of the variables those directives read. Each field becomes a `FieldPlan` naming its
declaration (schema/planning.py), whether null may stand there, how deep it is nested in lists,
and for object fields the `ObjectPlan` of each concrete type it can hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    is_abstract_type,
)

from schema.planning import Child, Declaration, Root, declaration_of

TYPENAME = "__typename"


class Unplannable(Exception):
    """Some field has no declaration (or is of a kind the plans do not know): strawberry runs it."""


@dataclass(frozen=True)
class Shape:
    """A field's output type: nullability of the value and of each list level, innermost last."""

    nullable: tuple[bool, ...]  # one entry for the value itself, then one per list level inward

    @property
    def depth(self) -> int:
        return len(self.nullable) - 1


@dataclass
class ObjectPlan:
    type_name: str
    fields: list[FieldPlan]


@dataclass
class FieldPlan:
    key: str  # the response key (alias or name)
    name: str
    declaration: Declaration | None  # None for __typename
    shape: Shape
    node: FieldNode
    definition: GraphQLField | None
    serialize: Callable[[Any], Any] | None = None  # leaves
    objects: dict[str, ObjectPlan] = field(default_factory=dict)  # by concrete type name
    abstract: bool = False
    index: int = 0  # position among the plan's loads (Child and Root fields)
    below: frozenset[str] = frozenset()  # the Child loaders anywhere under this field
    # The Child fields anywhere under this field, by loader: a root reading a child's page in its
    # own statement takes that field's arguments from here (execution/rows.py `below_arguments`).
    below_fields: dict[str, tuple[FieldPlan, ...]] = field(default_factory=dict)

    @property
    def loads(self) -> bool:
        return isinstance(self.declaration, Child | Root)


@dataclass
class Plan:
    root: ObjectPlan
    loads: list[FieldPlan]  # every Child/Root field, in breadth-first order


def directive_variables(document: Any) -> tuple[str, ...]:
    """Names of the variables any @skip/@include of the document reads: the plan's key."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        for directive in getattr(node, "directives", None) or ():
            if directive.name.value in ("skip", "include"):
                for argument in directive.arguments:
                    if isinstance(argument.value, VariableNode):
                        names.add(argument.value.name.value)
        selection_set = getattr(node, "selection_set", None)
        for selection in selection_set.selections if selection_set else ():
            walk(selection)

    for definition in document.definitions:
        walk(definition)
    return tuple(sorted(names))


def _included(node: Any, variables: dict[str, Any]) -> bool:
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        value = directive.arguments[0].value
        flag = (
            bool(variables.get(value.name.value))
            if isinstance(value, VariableNode)
            else isinstance(value, BooleanValueNode) and value.value
        )
        if flag == (name == "skip"):
            return False
    return True


class Planner:
    def __init__(self, schema: GraphQLSchema, document: Any, variables: dict[str, Any]) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.loads: list[FieldPlan] = []

    def plan(self, operation: OperationDefinitionNode) -> Plan:
        if operation.operation.value != "query":
            raise Unplannable("only queries are planned")
        root_type = self.schema.query_type
        assert root_type is not None
        root = self._object(root_type, [operation.selection_set])
        return Plan(root=root, loads=self._breadth_first(root))

    def _breadth_first(self, root: ObjectPlan) -> list[FieldPlan]:
        order: list[FieldPlan] = []
        level = [root]
        while level:
            following: list[ObjectPlan] = []
            for obj in level:
                for plan in obj.fields:
                    if plan.loads:
                        plan.index = len(order)
                        order.append(plan)
                    following.extend(plan.objects.values())
            level = following
        return order

    def collect(
        self,
        object_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        into: dict[str, list[FieldNode]],
    ) -> None:
        for selection in selection_set.selections:
            if not _included(selection, self.variables):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                into.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, object_type):
                    self.collect(object_type, selection.selection_set, into)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None and self._applies(fragment.type_condition.name.value, object_type):
                    self.collect(object_type, fragment.selection_set, into)

    def _applies(self, condition: str, object_type: GraphQLObjectType) -> bool:
        kind = self.schema.get_type(condition)
        if kind is object_type:
            return True
        return isinstance(kind, GraphQLAbstractType) and self.schema.is_sub_type(kind, object_type)

    def _object(self, object_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]) -> ObjectPlan:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self.collect(object_type, selection_set, grouped)
        return ObjectPlan(
            object_type.name, [self._field(object_type, key, nodes) for key, nodes in grouped.items()]
        )

    def _field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        name = nodes[0].name.value
        if name == TYPENAME:
            return FieldPlan(key, name, None, Shape((False,)), nodes[0], None)
        definition = parent.fields.get(name)
        declaration = declaration_of(definition) if definition is not None else None
        if definition is None or declaration is None:
            raise Unplannable(f"{parent.name}.{name} has no plan declaration")
        shape, named = _shape(definition.type)
        plan = FieldPlan(key, name, declaration, shape, nodes[0], definition)
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            plan.serialize = _serializer(named)
            return plan
        sets = [node.selection_set for node in nodes if node.selection_set is not None]
        if is_abstract_type(named):
            plan.abstract = True
            for possible in self.schema.get_possible_types(named):
                try:
                    plan.objects[possible.name] = self._object(possible, sets)
                except Unplannable:
                    continue  # met at run time: that request runs on strawberry
        elif isinstance(named, GraphQLObjectType):
            plan.objects[named.name] = self._object(named, sets)
        else:
            raise Unplannable(f"{parent.name}.{name}: output type {named} is not planned")
        plan.below = frozenset(
            name for obj in plan.objects.values() for child in obj.fields for name in _loaders_of(child)
        )
        for obj in plan.objects.values():
            for child in obj.fields:
                for name, fields in _fields_of(child).items():
                    plan.below_fields[name] = plan.below_fields.get(name, ()) + fields
        return plan


def _loaders_of(plan: FieldPlan) -> frozenset[str]:
    """The Child loaders of a field and of everything under it."""
    if isinstance(plan.declaration, Child):
        return plan.below | {plan.declaration.loader}
    return plan.below


def _fields_of(plan: FieldPlan) -> dict[str, tuple[FieldPlan, ...]]:
    """The Child fields of a field and of everything under it, by loader."""
    if isinstance(plan.declaration, Child):
        name = plan.declaration.loader
        return {**plan.below_fields, name: (*plan.below_fields.get(name, ()), plan)}
    return plan.below_fields


def _shape(kind: GraphQLOutputType) -> tuple[Shape, Any]:
    nullable: list[bool] = []
    while True:
        if isinstance(kind, GraphQLNonNull):
            nullable.append(False)
            kind = kind.of_type
        else:
            nullable.append(True)
        if isinstance(kind, GraphQLList):
            kind = kind.of_type
            continue
        return Shape(tuple(nullable)), kind


def _identity(value: Any) -> Any:
    return value


def _serializer(kind: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    if isinstance(kind, GraphQLEnumType):
        return kind.serialize
    if kind.name in ("String", "Int", "Boolean", "Float"):
        return _identity
    if kind.name == "ID":
        return str
    return kind.serialize


def plan_operation(
    schema: GraphQLSchema, document: Any, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> Plan:
    return Planner(schema, document, variables).plan(operation)
