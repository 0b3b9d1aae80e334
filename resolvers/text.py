"""Checks for user-written text: length in characters, no control characters."""

from __future__ import annotations

import unicodedata

from core.errors import BadInput

_ALLOWED_CONTROLS = {"\n", "\t"}


def clean_text(value: str, *, field: str, max_length: int, multiline: bool = True) -> str:
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > max_length:
        raise BadInput(f"`{field}` is at most {max_length} characters.", field=field)
    for char in text:
        if unicodedata.category(char) == "Cc" and not (multiline and char in _ALLOWED_CONTROLS):
            raise BadInput(f"`{field}` contains a control character.", field=field)
    return text


def clean_line(value: str, *, field: str, max_length: int) -> str:
    return clean_text(value, field=field, max_length=max_length, multiline=False)
