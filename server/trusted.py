"""Trusted documents: a JSON manifest `{id: document}` (what relay-compiler's `persistConfig` writes,
and what `python -m server.trusted DIR` builds from a folder of .graphql files).

A listed document runs by its id (`documentId`, or an APQ hash equal to its id) or by its text.
Texts match when they are the same document once parsed: formatting, comments and the
`__typename` selections clients add for their caches do not count."""

from __future__ import annotations

import hashlib
import json
import sys
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from graphql.language.visitor import REMOVE

CACHE_SIZE = 512


class ManifestError(ValueError):
    pass


class _DropTypename(Visitor):
    def enter_field(self, node: FieldNode, *_: object) -> object:
        if node.name.value == "__typename" and node.alias is None:
            return REMOVE
        return None


def canonical(text: str, max_tokens: int | None = None) -> str | None:
    """The document as printed once parsed, without bare `__typename`s; None when it does not parse."""
    try:
        document = parse(text, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    return print_ast(visit(document, _DropTypename()))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class TrustedDocuments:
    def __init__(self, documents: Mapping[str, str], max_tokens: int | None = None) -> None:
        self.by_id = dict(documents)
        self.max_tokens = max_tokens
        self._by_hash = {sha256(text): text for text in self.by_id.values()}
        self._forms: set[str] = set()
        for document_id, text in self.by_id.items():
            form = canonical(text)
            if form is None:
                raise ManifestError(f"the manifest's document {document_id!r} does not parse")
            self._forms.add(form)
        self._checked: OrderedDict[str, bool] = OrderedDict()

    @classmethod
    def load(cls, path: Path, max_tokens: int | None = None) -> TrustedDocuments:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ManifestError(f"cannot read the trusted documents manifest {path}: {exc}") from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise ManifestError(f"{path} must be a JSON object of {{id: document text}}")
        return cls(data, max_tokens)

    def text_of(self, key: str) -> str | None:
        """A listed document by its id, or by the sha256 of its text (Apollo's APQ hash)."""
        return self.by_id.get(key) or self._by_hash.get(key)

    def allows(self, text: str) -> bool:
        if text in self._checked:
            self._checked.move_to_end(text)
            return self._checked[text]
        allowed = canonical(text, self.max_tokens) in self._forms
        self._checked[text] = allowed
        while len(self._checked) > CACHE_SIZE:
            self._checked.popitem(last=False)
        return allowed


def _spreads(selection_set: SelectionSetNode | None, found: set[str]) -> set[str]:
    class Collect(Visitor):
        def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
            found.add(node.name.value)

    if selection_set is not None:
        visit(selection_set, Collect())
    return found


def build_manifest(folder: Path) -> dict[str, str]:
    """One entry per operation in the folder's .graphql files, with the fragments it uses, keyed by
    the sha256 of its text (relay-compiler's `algorithm: "SHA256"`, and the hash Apollo's APQ sends)."""
    documents: list[DocumentNode] = []
    for path in sorted(folder.rglob("*.graphql")):
        try:
            documents.append(parse(path.read_text()))
        except GraphQLError as exc:
            raise ManifestError(f"{path}: {exc.message}") from None
    definitions = [d for document in documents for d in document.definitions]
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    manifest: dict[str, str] = {}
    for operation in (d for d in definitions if isinstance(d, OperationDefinitionNode)):
        needed: set[str] = set()
        pending = _spreads(operation.selection_set, set())
        while pending:
            name = pending.pop()
            if name in needed:
                continue
            if name not in fragments:
                raise ManifestError(f"fragment {name} is used but defined in no .graphql file")
            needed.add(name)
            pending |= _spreads(fragments[name].selection_set, set()) - needed
        parts = [operation, *(fragments[name] for name in sorted(needed))]
        text = "\n\n".join(print_ast(part) for part in parts)
        manifest[sha256(text)] = text
    return manifest


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python -m server.trusted FOLDER > manifest.json", file=sys.stderr)
        return 2
    try:
        manifest = build_manifest(Path(argv[0]))
    except ManifestError as exc:
        print(f"ephemera: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(manifest, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
