"""Each rule in one place, checked on the source (as tests/test_layers.py checks the imports): every
rule of docs/architecture.md's "Rules" section is defined once, in its file; a story's expiry is
compared only there; block checks go through the visibility family; and schema/ decides nothing
about who may see what (it translates ids and arguments and asks resolvers/)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent
RUNTIME = ("core", "models", "media", "subscriptions", "resolvers", "schema", "server")
VISIBILITY = "resolvers/visibility.py"
VISIBILITY_SQL = "resolvers/visibility_sql.py"
STORY_RULES = "resolvers/stories/rules.py"
ACTIVITY_RULES = "resolvers/activity/rules.py"
# Each rule's functions (Python predicate and SQL form) and the one file that defines them.
RULES = {
    STORY_RULES: {
        "is_live",
        "live",
        "has_expired",
        "expired",
        "kept_past_expiry",
        "can_see_story",
        "story_visible_sql",
        "can_see_expired_story",
        "shows_views_to",
    },
    ACTIVITY_RULES: {"actor_shown", "actor_shown_sql"},
    VISIBILITY: {"can_find_user", "can_see_content", "can_interact", "can_suggest", "blocked_either_way"},
    VISIBILITY_SQL: {"blocked_with", "interacts", "blocks_either_way", "blocked_between", "content_visible"},
}
# Other things that expire, whose times are compared where they live (tokens, links, exports).
OTHER_LIFETIMES = {"AuthToken", "token", "EmailLink", "DataExport", "export"}
# Who reads the block edges: the visibility family, the loader that builds a `Relationship`, and
# the writers (block, deletion, export) that store or copy them.
BLOCK_READERS = {
    VISIBILITY,
    VISIBILITY_SQL,
    "resolvers/accounts/users.py",
    "resolvers/graph/actions.py",
    "resolvers/accounts/deletion.py",
    "resolvers/accounts/export_contents.py",
    "schema/graph/graph.py",  # names the edge to remove for unblockUser
}
# `Relationship.blocking` alone (one direction, on purpose): following someone one blocks is
# refused, and `User.isBlocked` reports it.
ONE_WAY_BLOCK = {"resolvers/graph/actions.py", "schema/accounts/users.py"}
RULE_MODULES = {
    "resolvers.visibility",
    "resolvers.visibility_sql",
    "resolvers.stories.rules",
    "resolvers.activity.rules",
}


def sources(*packages: str) -> dict[str, ast.Module]:
    return {
        str(path.relative_to(ROOT)): ast.parse(path.read_text(), str(path))
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def test_each_rule_is_defined_once_in_its_file() -> None:
    wanted = {name: path for path, names in RULES.items() for name in names}
    found: dict[str, list[str]] = {}
    for path, tree in sources(*RUNTIME).items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in wanted:
                found.setdefault(node.name, []).append(path)
    assert found == {name: [path] for name, path in wanted.items()}


def test_a_story_expiry_is_compared_only_in_the_story_rules() -> None:
    offenders = [
        f"{path}:{node.lineno} {ast.unparse(node)}"
        for path, tree in sources(*RUNTIME, "demo").items()
        if path != STORY_RULES
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        for operand in (node.left, *node.comparators)
        if isinstance(operand, ast.Attribute)
        and operand.attr == "expires_at"
        and ast.unparse(operand.value) not in OTHER_LIFETIMES
    ]
    assert not offenders


def test_blocks_are_checked_only_through_the_visibility_family() -> None:
    edges = {
        f"{path}:{node.lineno}"
        for path, tree in sources(*RUNTIME).items()
        if path not in BLOCK_READERS
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id == "Block"
    }
    one_way = {
        f"{path}:{node.lineno} .{node.attr}"
        for path, tree in sources(*RUNTIME).items()
        if path not in {VISIBILITY, "resolvers/accounts/users.py"}
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and (node.attr == "blocked_by" or (node.attr == "blocking" and path not in ONE_WAY_BLOCK))
    }
    assert not edges and not one_way


def test_schema_imports_no_rule_but_the_relationship_type() -> None:
    offenders = {
        f"{path} imports {alias.name} from {node.module}"
        for path, tree in sources("schema").items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in RULE_MODULES
        for alias in node.names
        if alias.name != "Relationship"
    }
    offenders |= {
        f"{path} imports {alias.name}"
        for path, tree in sources("schema").items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name in RULE_MODULES
    }
    assert not offenders


def test_schema_compares_no_expiry_and_no_viewer() -> None:
    """Who the viewer is and what has expired are questions for resolvers/ (extensions key rate
    limits by viewer: not a question of who may see what)."""
    offenders = [
        f"{path}:{node.lineno} {ast.unparse(node)}"
        for path, tree in sources("schema").items()
        if not path.startswith("schema/extensions/")
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        for operand in ast.walk(node)
        if isinstance(operand, ast.Attribute)
        and operand.attr in ("expires_at", "viewer_id", "owner_id", "author_id")
    ]
    calls = [
        f"{path}:{node.lineno} {ast.unparse(node.func)}"
        for path, tree in sources("schema").items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
        in ("is_live", "admits")
    ]
    assert not offenders and not calls


def test_the_checks_find_what_they_look_for() -> None:
    """The scanners above are not vacuous: they see the rules' own definitions and comparisons."""
    rules = sources("resolvers")
    compared = [
        node
        for node in ast.walk(rules[STORY_RULES])
        if isinstance(node, ast.Compare)
        and any(
            isinstance(o, ast.Attribute) and o.attr == "expires_at" for o in (node.left, *node.comparators)
        )
    ]
    blocks = [n for n in ast.walk(rules[VISIBILITY_SQL]) if isinstance(n, ast.Name) and n.id == "Block"]
    assert len(compared) >= 2 and blocks


def test_the_actor_rule_reads_the_page_s_own_activity() -> None:
    """The like and mention checks nest two EXISTS deep under the page's activity row: they must
    correlate to it, not scan every activity (auto-correlation looks one level up only)."""
    from datetime import UTC, datetime

    from sqlalchemy import select
    from sqlalchemy.dialects import postgresql

    from models import Activity
    from resolvers.activity.inbox import item_shown_sql

    statement = select(Activity.id).where(item_shown_sql(5, datetime.now(UTC)))
    sql = str(statement.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]
    assert sql.count("FROM activities") == 1
    assert "FROM post_likes, " not in sql and "FROM post_mentions, " not in sql
