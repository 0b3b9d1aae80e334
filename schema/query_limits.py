"""Limits on what one request may ask: depth, aliases, tokens (strawberry's), and query cost.

The cost follows GitHub's idea: a connection costs the page size it asks for, and connections
nested inside it multiply. It is computed from the document before anything executes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)
from strawberry.extensions import SchemaExtension

DEFAULT_PAGE = 20
PAGE_ARGUMENTS = ("first", "last")


class QueryCost:
    def __init__(
        self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]
    ):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def of(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> int:
        if selection_set is None or parent is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.of(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    total += self.of(
                        fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value)
                    )
        return total

    def _field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        fields = getattr(parent, "fields", {})
        definition = fields.get(node.name.value)
        if definition is None:  # __typename and other meta fields
            return 0
        size = 1
        if any(name in definition.args for name in PAGE_ARGUMENTS):
            size = self._page_size(node, definition.args)
        return 1 + size * self.of(node.selection_set, get_named_type(definition.type))

    def _page_size(self, node: FieldNode, args: dict[str, Any]) -> int:
        for argument in node.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value: Any = argument.value
            if isinstance(value, VariableNode):
                value = self.variables.get(value.name.value)
            elif isinstance(value, IntValueNode):
                value = int(value.value)
            if isinstance(value, int):
                return max(1, min(value, 100))
        for name in PAGE_ARGUMENTS:
            default = getattr(args.get(name), "default_value", None)
            if isinstance(default, int):
                return default
        return DEFAULT_PAGE


def operation_cost(
    schema: GraphQLSchema, document: Any, operation_name: str | None, variables: dict[str, Any]
) -> int:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        op for op in operations if operation_name is None or (op.name and op.name.value == operation_name)
    ]
    if not chosen:
        return 0
    operation = chosen[0]
    root = schema.get_root_type(operation.operation)
    return QueryCost(schema, fragments, variables or {}).of(operation.selection_set, root)


class CostLimiter(SchemaExtension):
    """Refuses an operation whose cost exceeds `max_cost`; every response reports its cost.

    Refusals are raised rather than set as the result: strawberry ignores a result set before a
    subscription starts, but turns an exception of this hook into the error result everywhere."""

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost
        self.cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is not None:
            self.cost = operation_cost(
                ctx.schema._schema, ctx.graphql_document, ctx.operation_name, ctx.variables or {}
            )
            if self.cost > self.max_cost:
                raise GraphQLError(
                    f"This query would cost {self.cost}, above the limit of {self.max_cost}: "
                    "ask for smaller pages or fewer nested connections.",
                    extensions={
                        "code": "BAD_USER_INPUT",
                        "reason": "QUERY_TOO_COSTLY",
                        "cost": self.cost,
                        "maxCost": self.max_cost,
                    },
                )
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": {"requested": self.cost, "limit": self.max_cost}} if self.cost is not None else {}


# NUL: PostgreSQL cannot store it. Unpaired surrogates: no encoder (UTF-8, argon2, asyncpg) accepts them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _has_unstorable(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
            stack.extend(item.keys())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _string_literals(document: Any) -> Iterator[StringValueNode]:
    found: list[StringValueNode] = []

    class Collect(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            found.append(node)

    if document is not None:
        visit(document, Collect())
    yield from found


class RefuseUnstorableText(SchemaExtension):
    """No input string may carry a NUL character or an unpaired surrogate (JSON's "\\ud800"):
    no user types one, and nothing downstream can store or hash it."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        literals = (node for node in _string_literals(ctx.graphql_document) if _UNSTORABLE.search(node.value))
        if next(literals, None) is not None or _has_unstorable(ctx.variables or {}):
            raise GraphQLError(
                "Input text may not contain NUL characters or unpaired surrogates.",
                extensions={"code": "BAD_USER_INPUT"},
            )
        yield
