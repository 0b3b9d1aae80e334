"""Names that could pass for something else are refused: bidirectional overrides, and names made
only of invisible characters. Ordinary right-to-left names are fine."""

from __future__ import annotations

import pytest

from resolvers.text import clean_line
from tests.harness import Api

UPDATE = "mutation($name: String) { updateProfile(input: {displayName: $name}) { displayName } }"


@pytest.mark.parametrize(
    "name",
    ["\u202eevil", "a\u2066b\u2069", "\u200b", "\u200b\u200c\u200d\ufeff", "\u3164", "\u2060 \u180e"],
)
def test_spoofing_names_are_refused(name: str) -> None:
    with pytest.raises(Exception, match="displayName"):
        clean_line(name, field="displayName", max_length=64)


@pytest.mark.parametrize("name", ["Alice", "שלום", "مرحبا", "Zoë", "李雷", "👩‍💻 Ana"])
def test_real_names_pass(name: str) -> None:
    assert clean_line(name, field="displayName", max_length=64) == name


async def test_the_api_refuses_them_with_a_coded_error(api: Api) -> None:
    alice = await api.sign_up()
    errors = await api.gql_error(UPDATE, {"name": "\u202emoc.elgoog"}, alice.token)
    assert errors.codes == ["BAD_USER_INPUT"]
    assert errors.errors[0]["extensions"]["field"] == "displayName"
    invisible = await api.gql_error(UPDATE, {"name": "\u200b\u200b"}, alice.token)
    assert invisible.codes == ["BAD_USER_INPUT"]
    assert (await api.gql(UPDATE, {"name": "Alice"}, alice.token))["updateProfile"]["displayName"] == "Alice"
