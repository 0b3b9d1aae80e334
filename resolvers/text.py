"""Checks for user-written text: length in characters, no control characters; single lines (names,
titles, alt text) also refuse bidirectional controls and text made only of invisible characters."""

from __future__ import annotations

import re
import unicodedata

from core.errors import BadInput

_ALLOWED_CONTROLS = {"\n", "\t"}
# Embeddings, overrides and isolates reorder what follows them: "\u202egnp.exe" shows as "exe.png".
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Format characters (zero-width space, joiners, marks), spaces and the Hangul fillers show nothing.
_INVISIBLE = {"Cf", "Zs", "Zl", "Zp", "Mn", "Me"}
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0"}


def clean_text(value: str, *, field: str, max_length: int, multiline: bool = True) -> str:
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > max_length:
        raise BadInput(f"`{field}` is at most {max_length} characters.", field=field)
    for char in text:
        if unicodedata.category(char) == "Cc" and not (multiline and char in _ALLOWED_CONTROLS):
            raise BadInput(f"`{field}` contains a control character.", field=field)
    return text


def clean_line(value: str, *, field: str, max_length: int) -> str:
    """A name or title: refused (not rewritten) when it could pass for something else."""
    text = clean_text(value, field=field, max_length=max_length, multiline=False)
    if _BIDI_CONTROLS.search(text):
        raise BadInput(f"`{field}` contains a bidirectional control character.", field=field)
    if text and all(unicodedata.category(c) in _INVISIBLE or c in _BLANK_LETTERS for c in text):
        raise BadInput(f"`{field}` has no visible character.", field=field)
    return text
