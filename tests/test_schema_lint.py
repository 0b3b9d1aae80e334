"""schema.graphql describes itself and follows the Relay connection spec: graphql-schema-linter's
description rules and Relay rules find nothing in it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.npm import installed

HERE = Path(__file__).parent / "schema_lint"
SCHEMA = Path(__file__).parent.parent / "schema.graphql"
RULES = (
    "types-have-descriptions",
    "fields-have-descriptions",
    "arguments-have-descriptions",
    "enum-values-have-descriptions",
    "input-object-values-have-descriptions",
    "descriptions-are-capitalized",
    "relay-connection-types-spec",
    "relay-connection-arguments-spec",
    "relay-page-info-spec",
)
# Breaks every rule above at least once: proof that each one runs.
UNDESCRIBED = """
type Query { foos(first: String): FooConnection t: T i(x: I): Int }
type FooConnection { edges: [Int] }
type PageInfo { foo: Int }
enum E { A }
input I { a: Int }
type T { \"\"\"lower case\"\"\" f(a: Int): E }
"""


@pytest.fixture(scope="session")
def linter() -> Path:
    """graphql-schema-linter, pinned in tests/schema_lint/."""
    return (
        installed(HERE, "graphql-schema-linter", timeout=300)
        / "node_modules/graphql-schema-linter/lib/cli.js"
    )


def lint(linter: Path, *source: str, stdin: str | None = None) -> list[dict[str, Any]]:
    """The findings of exactly RULES: no configuration file, ignore list or rule options applies."""
    done = subprocess.run(
        [
            "node",
            str(linter),
            "--format=json",
            f"--rules={','.join(RULES)}",
            "--ignore={}",
            "--rules-options={}",
            f"--config-directory={HERE}",
            *(["--stdin"] if stdin is not None else source),
        ],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # 0: nothing found, 1: findings. A rule name it does not know is only a warning on stderr.
    assert done.returncode in (0, 1) and not done.stderr, done.stderr
    findings: list[dict[str, Any]] = json.loads(done.stdout)["errors"]
    return findings


def test_every_rule_runs(linter: Path) -> None:
    assert {finding["rule"] for finding in lint(linter, stdin=UNDESCRIBED)} == set(RULES)


def test_schema_graphql_has_no_findings(linter: Path) -> None:
    findings = lint(linter, str(SCHEMA))
    listing = "\n".join(
        f"schema.graphql:{f['location']['line']}:{f['location']['column']} [{f['rule']}] {f['message']}"
        for f in findings
    )
    assert not findings, f"{len(findings)} findings (describe it where the schema defines it):\n{listing}"
