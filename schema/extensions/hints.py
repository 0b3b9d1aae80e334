"""Production validation messages name nothing the request did not name itself, and suggest nothing.

graphql-core's messages are written for developers: "Cannot query field 'x' on type 'User'. Did you
mean 'y'?" With introspection off, those hints are enough for a tool (clairvoyance) to rebuild the
schema. In production a message is kept when every name it quotes came from the request; otherwise
the known shapes are rewritten without the schema's names, and anything else becomes generic.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import DocumentNode, NameNode, StringValueNode, Visitor, visit

GENERIC = "This request does not match the schema."
_SUGGESTION = re.compile(r"\s*Did you mean\b.*$", re.S)
_QUOTED = re.compile(r"'([^']*)'")
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
_TYPE_EXPRESSION = re.compile(r"^[\[\]!$_0-9A-Za-z.():@]+$")
BUILTIN_SCALARS = frozenset({"Int", "Float", "String", "Boolean", "ID"})
_REWRITES = [
    (re.compile(r"^Cannot query field '([^']+)' on type '[^']+'\.$"), "Cannot query field '{0}' here."),
    (
        re.compile(r"^Field '([^']+)' of type '[^']+' must have a selection of subfields\.$"),
        "Field '{0}' must have a selection of subfields.",
    ),
    (
        re.compile(r"^Field '([^']+)' must not have a selection since type '[^']+' has no subfields\.$"),
        "Field '{0}' must not have a selection of subfields.",
    ),
    (re.compile(r"^Unknown argument '([^']+)' on (?:field|directive) '[^']+'\.$"), "Unknown argument '{0}'."),
    (
        re.compile(r"^Variable '(\$[^']+)' (?:got|has) invalid value.*$", re.S),
        "Variable '{0}' got an invalid value.",
    ),
    (
        re.compile(r"^Variable '(\$[^']+)' of type '[^']+' used in position expecting .*$"),
        "Variable '{0}' is used where its type does not fit.",
    ),
    (re.compile(r"^Expected value of type '[^']+', found (.*?);.*$", re.S), "Unexpected value {0}."),
    (re.compile(r"^Expected value of type '[^']+', found (.*)\.$", re.S), "Unexpected value {0}."),
]


def request_names(document: DocumentNode | None, variables: Any) -> set[str]:
    """Every name and string the request itself contains: its document and its variables."""
    names: set[str] = set()

    class Collect(Visitor):
        def enter_name(self, node: NameNode, *_: Any) -> None:
            names.add(node.value)

        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            names.add(node.value)

    if document is not None:
        visit(document, Collect())
    stack = [variables]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            names.update(str(key) for key in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            names.add(item)
    return names


def _leaks(message: str, named: set[str]) -> bool:
    for quoted in _QUOTED.findall(message):
        if quoted in named or not _TYPE_EXPRESSION.fullmatch(quoted):
            continue  # a value from the request, or not a name at all
        for name in _NAME.findall(quoted):
            if name not in named and name not in BUILTIN_SCALARS:
                return True
    return False


def without_schema_hints(message: str, named: set[str]) -> str:
    message = _SUGGESTION.sub("", message)
    if not _leaks(message, named):
        return message
    for pattern, replacement in _REWRITES:
        match = pattern.match(message)
        if match:
            rewritten = replacement.format(*match.groups())
            if not _leaks(rewritten, named):
                return rewritten
    return GENERIC
