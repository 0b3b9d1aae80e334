"""Page arguments: `first: null` means the field's own default, exactly as leaving it out does."""

from __future__ import annotations

import pytest

from core.errors import BadInput
from resolvers.paging import encode_cursor, page_args


def test_a_null_first_takes_the_fields_default() -> None:
    assert page_args(None, None).first == 20
    assert page_args(None, None, default=50).first == 50
    assert page_args(7, None, default=50).first == 7


@pytest.mark.parametrize("first", [0, -1, 101])
def test_a_page_size_outside_1_to_100_is_refused(first: int) -> None:
    with pytest.raises(BadInput):
        page_args(first, None)


def test_a_cursor_round_trips_and_garbage_is_refused() -> None:
    assert page_args(5, encode_cursor(123)).after == 123
    for bad in ("%%%", encode_cursor("x"), encode_cursor(2**64)):
        with pytest.raises(BadInput):
            page_args(5, bad)
