"""Limits on what one request may ask: depth, aliases, tokens (strawberry's), and query cost.

The cost follows GitHub's idea: a connection costs the page size it asks for, and connections
nested inside it multiply. A list without paging arguments multiplies by the most items it can
hold, declared on the field itself (`metadata=at_most(MAX_MEDIA)`, from the rule that enforces it);
a list that declares nothing counts as a full page (MAX_PAGE). It is computed from the document
before anything executes, so a query's cost bounds the rows it reads and the URLs it signs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    value_from_ast_untyped,
    visit,
)
from graphql.validation import ValidationContext, ValidationRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.query_depth_limiter import create_validator

DEFAULT_PAGE = 20
MAX_PAGE = 100
PAGE_ARGUMENTS = ("first", "last")
MAX_ITEMS = "max_items"


def at_most(items: int) -> dict[str, int]:
    """Field metadata of a list without paging: it never holds more than `items`."""
    return {MAX_ITEMS: items}


def is_list(kind: GraphQLOutputType) -> bool:
    return isinstance(kind.of_type if isinstance(kind, GraphQLNonNull) else kind, GraphQLList)


def list_bound(definition: GraphQLField) -> int | None:
    """The most items a list field declares it holds; None when it declares nothing."""
    field = definition.extensions.get("strawberry-definition")
    bound = getattr(field, "metadata", {}).get(MAX_ITEMS)
    return bound if isinstance(bound, int) else None


def is_page(parent: GraphQLNamedType) -> bool:
    """A connection: its `edges` are the page its field already counted."""
    return "pageInfo" in getattr(parent, "fields", {})


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
        elif is_list(definition.type) and not is_page(parent):
            size = list_bound(definition) or MAX_PAGE
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
                return max(1, min(value, MAX_PAGE))
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
    # A variable left out takes its default (`query($first: Int = 10)`).
    defaults = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    return QueryCost(schema, fragments, defaults | (variables or {})).of(operation.selection_set, root)


def fixed_cost(schema: GraphQLSchema, document: Any, operation_name: str | None) -> int | None:
    """The operation's cost when no variable can change it, computed once per document (server/
    ahead.py); None when a page size comes from a variable (`first: $n`): then per request."""
    reads_variables = False

    class Find(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            nonlocal reads_variables
            if node.name.value in PAGE_ARGUMENTS and isinstance(node.value, VariableNode):
                reads_variables = True

    visit(document, Find())
    return None if reads_variables else operation_cost(schema, document, operation_name, {})


class CostLimiter(SchemaExtension):
    """Refuses an operation whose cost exceeds `max_cost`, or, over HTTP, what is left of the
    request's `max_request_cost` (a batch's operations share it); every response reports its cost.

    Refusals are raised rather than set as the result: strawberry ignores a result set before a
    subscription starts, but turns an exception of this hook into the error result everywhere."""

    def __init__(self, max_cost: int, max_request_cost: int | None = None) -> None:
        self.max_cost = max_cost
        self.max_request_cost = max_request_cost
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
            self._spend(ctx.context, self.cost)
        yield

    def _spend(self, request: Any, cost: int) -> None:
        left = getattr(request, "cost_left", None)
        if not isinstance(left, int):
            return
        if cost > left:
            raise GraphQLError(
                f"This operation would cost {cost}, and this request has {left} left of its "
                f"{self.max_request_cost}: send the operations of a batch in more than one request.",
                extensions={
                    "code": "BAD_USER_INPUT",
                    "reason": "REQUEST_TOO_COSTLY",
                    "cost": cost,
                    "costLeft": left,
                    "maxRequestCost": self.max_request_cost,
                },
            )
        request.cost_left = left - cost

    def get_results(self) -> dict[str, Any]:
        return {"cost": {"requested": self.cost, "limit": self.max_cost}} if self.cost is not None else {}


class DepthLimiter(AddValidationRules):
    """strawberry's depth limit, refusing as the cost limit does: with a reason and the limit."""

    def __init__(self, max_depth: int) -> None:
        measure = create_validator(max_depth, None, None)

        class DepthLimit(ValidationRule):
            def __init__(self, context: ValidationContext) -> None:
                report = context.report_error

                def coded(error: GraphQLError) -> None:
                    extensions = {"code": "BAD_USER_INPUT", "reason": "QUERY_TOO_DEEP", "maxDepth": max_depth}
                    report(GraphQLError(error.message, error.nodes, extensions=extensions))

                context.report_error = coded  # type: ignore[method-assign]
                try:
                    measure(context)
                finally:
                    context.report_error = report  # type: ignore[method-assign]
                super().__init__(context)

        super().__init__([DepthLimit])


# NUL: PostgreSQL cannot store it. Unpaired surrogates: no encoder (UTF-8, argon2, asyncpg) accepts them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_unstorable(value: Any) -> bool:
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
        if next(literals, None) is not None or has_unstorable(ctx.variables or {}):
            raise GraphQLError(
                "Input text may not contain NUL characters or unpaired surrogates.",
                extensions={"code": "BAD_USER_INPUT"},
            )
        yield
