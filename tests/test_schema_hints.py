"""In production, error messages name nothing of the schema that the request did not name itself,
and suggest nothing: the probes an introspection-free schema-recovery tool (clairvoyance) sends."""

from __future__ import annotations

import json
import re
from typing import Any

from schema import schema
from schema.extensions.hints import BUILTIN_SCALARS, without_schema_hints
from tests.harness import ServerFactory

WORD = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
QUOTED = re.compile(r"'([^']*)'")
TYPE_NAMES = {name for name in schema._schema.type_map if not name.startswith("__")} - BUILTIN_SCALARS

PROBES: list[tuple[str, dict[str, Any]]] = [
    ("{ viewer }", {}),
    ("{ viewr { id } }", {}),
    ("{ viewer { usernme } }", {}),
    ("{ feed(frist: 1) { edges { cursor } } }", {}),
    ("{ feed { edges { node { author } } } }", {}),
    ("{ user { id } }", {}),
    ('{ node(id: "x") { ... on Usr { id } } }', {}),
    ("{ viewer { ... on Post { id } } }", {}),
    ('mutation { signUp(input: {password: "long enough"}) { token } }', {}),
    ('mutation { signUp(input: {username: "a", passwrd: "x"}) { token } }', {}),
    ("mutation($i: SignUpInput!) { signUp(input: $i) { token } }", {"i": {"passwrd": "x"}}),
    ('mutation { createStory(input: {mediaId: "x", audience: FRIENDS}) { id } }', {}),
    ('mutation { createStory(input: {mediaId: "x", audience: 1}) { id } }', {}),
    ('{ feed(first: "ten") { edges { cursor } } }', {}),
    ("query($f: String) { feed(first: $f) { edges { cursor } } }", {"f": "x"}),
    ("{ __schema { types { name } } }", {}),
    ('{ __type(name: "User") { fields { name } } }', {}),
]


def _leaks(message: str, query: str, variables: dict[str, Any]) -> set[str]:
    named = set(WORD.findall(query)) | set(WORD.findall(json.dumps(variables)))
    quoted = {word for token in QUOTED.findall(message) for word in WORD.findall(token)}
    types = set(WORD.findall(message)) & TYPE_NAMES
    return (quoted | types) - named - BUILTIN_SCALARS


async def test_production_messages_name_only_what_the_request_named(asgi: ServerFactory) -> None:
    leaks = {}
    async with asgi(env="production", allowed_origins=("https://app.example",)) as api:
        for query, variables in PROBES:
            body = await api.post(query, variables)
            assert body.get("errors"), query
            for error in body["errors"]:
                found = _leaks(error["message"], query, variables)
                if found or "Did you mean" in error["message"]:
                    leaks[query] = error["message"]
                assert error["extensions"]["code"] == "BAD_USER_INPUT", (query, error)
    assert leaks == {}


async def test_development_keeps_the_helpful_messages(asgi: ServerFactory) -> None:
    async with asgi() as api:
        body = await api.post("{ feed(frist: 1) { edges { cursor } } }")
    assert "Did you mean 'first'?" in body["errors"][0]["message"]


def test_known_messages_are_rewritten_without_the_schema_names() -> None:
    named = {"viewer", "frist", "f"}
    assert (
        without_schema_hints("Field 'viewer' of type 'User' must have a selection of subfields.", named)
        == "Field 'viewer' must have a selection of subfields."
    )
    assert without_schema_hints("Unknown argument 'frist' on field 'Query.feed'.", named) == (
        "Unknown argument 'frist'."
    )
    assert without_schema_hints("Variable '$f' has invalid value: Int cannot represent: '10'", named) == (
        "Variable '$f' has invalid value: Int cannot represent: '10'"
    )
    assert without_schema_hints("Objects of type 'User' never fit 'Secret'.", named) == (
        "This request does not match the schema."
    )
