"""What a field needs, declared on the strawberry field itself, for the compiled executor (execution/).

The strawberry type stays the source of truth: a field's resolver serves strawberry, and the same
field's `metadata` tells the planner how to get the same value without it. Three kinds:

- `Column("caption")`: an attribute of the parent's row (an ORM object or a SQLAlchemy Core row:
  both read `row.caption`); the planner serializes it by the field's GraphQL type.
- `Pure(fn)`: `fn(parent, ctx)` computes the value from the parent alone (a global id, a signed
  URL, a cursor); it may be a coroutine function. For an object-typed field it gives the child's
  source (a page's items, an edge's row) and no statement runs.
- `GlobalId()`: `Node.id`, from the object's type name and `row.id`.
- `Child("loader", key=...)`: a batched load, one statement for all parents at one depth of the
  response: `key(parent)` is the parent's key, the loader named here (registered in
  execution/loaders.py) maps keys to values (a row, a list of rows, a scalar).
- `Root("loader")`: a root field; the loader takes the field's arguments and gives its value.

A field with none of these sends the whole operation to strawberry. Declare with `planned(...)`,
merged with any other metadata: `metadata=at_most(MAX_MEDIA) | planned(Child("post_media", ...))`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

PLAN = "plan"


@dataclass(frozen=True)
class Column:
    attr: str


@dataclass(frozen=True)
class Pure:
    fn: Callable[[Any, Any], Any]


@dataclass(frozen=True)
class GlobalId:
    """`Node.id`: the global id of the object's GraphQL type name and its row's `id`."""


def itself(row: Any) -> Any:
    """A child key that is the parent itself: for loaders that need the whole row (a page of a
    user's posts reads whether the account is private)."""
    return row


@dataclass(frozen=True)
class Child:
    loader: str
    key: Callable[[Any], Any] = field(default=attrgetter("id"))


@dataclass(frozen=True)
class Root:
    loader: str


Declaration = Column | Pure | GlobalId | Child | Root


def planned(declaration: Declaration) -> dict[str, Any]:
    """Field metadata for the compiled executor; `|` it with other metadata (`at_most`)."""
    return {PLAN: declaration}


def declaration_of(definition: Any) -> Declaration | None:
    """The declaration on a graphql-core field built by strawberry, or None."""
    strawberry_field = definition.extensions.get("strawberry-definition")
    found = getattr(strawberry_field, "metadata", None) or {}
    declared = found.get(PLAN)
    return declared if isinstance(declared, Column | Pure | GlobalId | Child | Root) else None
