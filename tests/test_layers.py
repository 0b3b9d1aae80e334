"""The layering docs/architecture.md draws, checked on the imports themselves: transport only in
server/, GraphQL only in schema/ (and the transport), and imports pointing down the picture."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
# Each package with the packages of ours it may import (besides itself and settings).
MAY_IMPORT = {
    "core": {"models", "subscriptions", "media"},
    "models": set(),
    "subscriptions": set(),
    "media": set(),
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
