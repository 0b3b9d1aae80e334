"""What a new user meets in their first hour: documentation that says what the server does, and
errors that name the field as the contract spells it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from settings import Settings
from tests.harness import Api
from tests.posting import CREATE_POST
from tests.story_helpers import CREATE_STORY

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def environment_variables() -> set[str]:
    source = "".join(path.read_text() for path in sorted((ROOT / "settings").glob("*.py")))
    direct = re.findall(r'env(?:\.get)?[\(\[]\s*"([A-Z0-9_]+)"', source)
    typed = re.findall(r'env_(?:int|float|bool|list)\(env, "([A-Z0-9_]+)"', source)
    return set(direct) | set(typed)


def test_every_setting_is_in_the_readme() -> None:
    names = environment_variables()
    assert len(names) > 50
    assert sorted(name for name in names if f"`{name}`" not in README) == []


def test_the_readme_says_what_allowed_origins_defaults_to() -> None:
    row = next(line for line in README.splitlines() if line.startswith("| `ALLOWED_ORIGINS`"))
    default = row.split("|")[2]
    assert Settings(env="development").browser_origins == ("*",) and "`*`" in default
    assert Settings(env="production").browser_origins == () and "none in production" in default


def test_the_operations_guide_names_no_image_the_repository_lacks() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text()
    has_image = any((ROOT / name).exists() for name in ("Dockerfile", "Containerfile"))
    assert has_image or not re.search(r"\bone image\b", operations, re.IGNORECASE)


async def test_attaching_media_names_the_input_field_of_each_mutation(api: Api) -> None:
    alice = await api.sign_up()
    broken = await api.upload(alice, "POST", data=b"not a photo at all")
    for_story = await api.upload(alice, "STORY")
    cases: list[tuple[str, dict[str, Any], str]] = [
        (CREATE_POST, {"input": {"caption": "", "mediaIds": [broken]}}, "mediaIds"),
        (CREATE_POST, {"input": {"caption": "", "mediaIds": [for_story, for_story]}}, "mediaIds"),
        (CREATE_POST, {"input": {"caption": "", "mediaIds": [for_story]}}, "mediaIds"),
        (CREATE_STORY, {"input": {"mediaId": broken, "audience": "PUBLIC"}}, "mediaId"),
    ]
    for query, variables, field in cases:
        errors = await api.gql_error(query, variables, alice.token)
        assert errors.errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, variables
