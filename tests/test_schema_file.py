"""The committed SDL (schema.graphql) is the schema the server serves, so every change is reviewed."""

from __future__ import annotations

import difflib
from pathlib import Path

from schema import schema

COMMITTED = Path(__file__).parent.parent / "schema.graphql"


def test_committed_sdl_matches_the_served_schema() -> None:
    served = schema.as_str() + "\n"
    committed = COMMITTED.read_text() if COMMITTED.exists() else ""
    if served != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                served.splitlines(keepends=True),
                "schema.graphql (committed)",
                "served schema",
                n=1,
            )
        )
        raise AssertionError(f"schema.graphql is out of date: run `make schema` and commit it.\n{diff}")


def test_every_node_type_is_reachable_by_node_id() -> None:
    """`node(id:)` answers for exactly the types that implement Node: a new one must be mapped."""
    from graphql import GraphQLObjectType

    from schema import NODE_TYPES

    implementing = {
        name
        for name, kind in schema._schema.type_map.items()
        if isinstance(kind, GraphQLObjectType) and any(i.name == "Node" for i in kind.interfaces)
    }
    assert implementing == set(NODE_TYPES)
