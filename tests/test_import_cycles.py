"""No import circle among the project's modules: each import statement, wherever it stands (at the
top, inside a function, under TYPE_CHECKING), is an edge, and the edges must not loop back.

One kind of statement is not an edge: a deferred import (under TYPE_CHECKING or inside a function)
from a module that the same file names in `strawberry.lazy("that.module")`. The GraphQL graph is
cyclic by nature (a user has posts, a post has an author): strawberry resolves those references by
module name when it builds the schema, the type checker gets the TYPE_CHECKING import, and the
field's resolver imports the type when it runs. A top-level import of such a module still counts."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent
SKIP = {".venv", "node_modules", "data", "build", ".git"}


def project_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if SKIP.intersection(parts):
            continue
        dotted = [*parts[:-1], path.stem] if path.stem != "__init__" else list(parts[:-1])
        if dotted:
            found[".".join(dotted)] = path
    return found


def lazy_type_imports(tree: ast.Module) -> set[ast.ImportFrom]:
    """The deferred imports from modules the file also names in `strawberry.lazy(...)`."""
    lazy = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "lazy"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }
    top_level = set(tree.body)
    return {
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in lazy and node not in top_level
    }


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` (at `path`) names in its import statements."""
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    targets: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    skipped = lazy_type_imports(tree)
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {f"{base}.{alias.name}" for alias in node.names}
            # `from package import module` runs the package's __init__ as any `package.module` does:
            # the package itself is an edge only when a name comes from its __init__.
            targets.update(submodules if submodules <= known.keys() else {base, *submodules})
    return {target for target in targets if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    known = project_modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_no_import_circle() -> None:
    assert circles(import_graph()) == []


def test_a_circle_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [["a", "b", "c"]]


def test_the_graph_sees_imports_inside_functions_and_type_checking_blocks() -> None:
    graph = import_graph()
    assert "core.outbox" in graph["core.services"]  # under TYPE_CHECKING
    assert "demo.run" in graph["commands"]  # inside a function
    assert "resolvers.feed.fanout" in graph["resolvers.effects"]  # `from package import module`


def test_only_lazy_graphql_type_imports_are_left_out() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from schema.posts.posts import PostType\n"
        "    from core.context import Services\n"
        "from schema.stories.stories import StoryType\n"
        "def posts() -> Annotated[PostType, strawberry.lazy('schema.posts.posts')]:\n"
        "    from schema.posts.posts import PostType\n"
        "def stories() -> Annotated[StoryType, strawberry.lazy('schema.stories.stories')]: ...\n"
    )
    assert [statement.module for statement in lazy_type_imports(tree)] == ["schema.posts.posts"] * 2
