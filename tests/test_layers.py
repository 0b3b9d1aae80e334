"""The layering docs/architecture.md draws, checked on the imports themselves: transport only in
server/, GraphQL only in schema/ (and the transport), and imports pointing down the picture; and
the layout it names: one folder per area in resolvers/ and schema/, shared modules at the top."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
# Each package with the packages of ours it may import (besides itself and settings).
MAY_IMPORT = {
    "core": {"models", "subscriptions", "media"},
    "models": set(),
    "subscriptions": set(),
    "media": set(),
    "settings": set(),
    "resolvers": {"core", "models", "media", "subscriptions"},
    "schema": {"core", "models", "media", "subscriptions", "resolvers"},
    "execution": {"core", "models", "media", "subscriptions", "resolvers", "schema"},
    "server": {"core", "models", "media", "subscriptions", "resolvers", "schema", "execution"},
}
OURS = {*MAY_IMPORT, "app", "services", "startup", "commands", "demo", "migrations", "bench", "tests"}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_imports_point_down(package: str) -> None:
    allowed = MAY_IMPORT[package] | {package, "settings"}
    upward = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(package)
        for name in imports(path)
        if name.split(".")[0] in OURS and name.split(".")[0] not in allowed
    }
    assert not upward


def test_only_the_transport_layer_imports_starlette_or_uvicorn() -> None:
    runtime = [p for package in MAY_IMPORT if package != "server" for p in modules(package)]
    runtime += [ROOT / "app.py", ROOT / "services.py", ROOT / "startup.py"]
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in runtime
        for name in imports(path)
        if name.split(".")[0] in ("starlette", "uvicorn")
    }
    assert not offenders


def test_the_domain_does_not_import_strawberry_beyond_its_dataloader() -> None:
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for package in ("resolvers", "core", "models", "media", "subscriptions")
        for path in modules(package)
        for name in imports(path)
        if name.split(".")[0] == "strawberry" and name != "strawberry.dataloader"
    }
    assert not offenders


# What stays at the top of each layer, shared by every area; everything else is in an area's folder.
SHARED = {
    "resolvers": {
        "__init__",
        "visibility",
        "visibility_sql",
        "loader",
        "paging",
        "parent_pages",
        "text",
        "emoji",
        "effects",
    },
    "schema": {"__init__", "node", "edges", "planning"},
}
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()


def areas(layer: str) -> set[str]:
    return {path.parent.name for path in (ROOT / layer).glob("*/__init__.py")}


@pytest.mark.parametrize("layer", sorted(SHARED))
def test_only_shared_modules_sit_at_the_top_of_a_layer(layer: str) -> None:
    assert {path.stem for path in (ROOT / layer).glob("*.py")} == SHARED[layer]


@pytest.mark.parametrize("layer", sorted(SHARED))
def test_area_folders_are_one_level_deep(layer: str) -> None:
    assert list((ROOT / layer).glob("*/*/*.py")) == []


def test_every_area_folder_is_in_the_areas_table() -> None:
    table = ARCHITECTURE.split("## Areas", 1)[1].split("\n## ", 1)[0]
    named = {layer: set(re.findall(r"`(\w+)/`", table)) for layer in SHARED}
    rows = {row.split("|")[1].strip() for row in table.splitlines() if row.startswith("| ")}
    resolver_areas = areas("resolvers")
    assert resolver_areas <= named["resolvers"] and areas("schema") - {"extensions"} <= resolver_areas
    assert resolver_areas <= rows  # each folder has its row, named as the folder


def test_every_module_path_in_the_docs_exists() -> None:
    """A module moved or renamed takes its mentions in README.md and docs/ along."""
    mentioned = re.compile(
        r"(?<![\w/.])((?:resolvers|schema|core|server|models|media|subscriptions|settings|migrations)/[\w/]*\w\.py)\b"
    )
    missing = {
        f"{doc.relative_to(ROOT)}: {path}"
        for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
        for path in mentioned.findall(doc.read_text())
        if not (ROOT / path).exists()
    }
    assert not missing
