"""Query texts that passed validation skip it next time; failing texts are validated every time."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema

from schema import build_schema
from schema.extensions.document_cache import ValidTexts
from settings import Settings

VALID = "query { __typename }"
INVALID = "query { noSuchField }"
TOO_DEEP = "query { viewer { followers { edges { node { followers { edges { node { id } } } } } } } }"


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    validate = strawberry_schema.validate_document

    def counting(schema: Any, document: Any, rules: Any) -> Any:
        seen.append("validated")
        return validate(schema, document, rules)

    monkeypatch.setattr(strawberry_schema, "validate_document", counting)
    return seen


async def test_a_valid_text_is_validated_once(validations: list[str]) -> None:
    schema = build_schema(Settings())
    for _ in range(3):
        result = await schema.execute(VALID)
        assert result.errors is None and result.data == {"__typename": "Query"}
    assert len(validations) == 1


async def test_an_invalid_text_fails_every_time(validations: list[str]) -> None:
    schema = build_schema(Settings(max_query_depth=3))
    for query in (INVALID, INVALID, TOO_DEEP, TOO_DEEP):
        result = await schema.execute(query)
        assert result.errors and result.data is None
    assert len(validations) == 4


async def test_each_schema_keeps_its_own_texts(validations: list[str]) -> None:
    lenient, strict = build_schema(Settings()), build_schema(Settings(max_query_depth=3))
    await lenient.execute(TOO_DEEP)  # passes validation there (then needs a viewer's context)
    await lenient.execute(TOO_DEEP)
    result = await strict.execute(TOO_DEEP)
    assert result.errors and "depth" in result.errors[0].message
    assert len(validations) == 2


def test_the_lru_forgets_the_least_recently_used_text() -> None:
    texts = ValidTexts(maxsize=2)
    texts.add("a")
    texts.add("b")
    assert "a" in texts  # now the most recent
    texts.add("c")
    assert "a" in texts and "c" in texts and "b" not in texts
