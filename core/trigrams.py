"""pg_trgm's `similarity` in Python, so SQLite ranks fuzzy matches exactly as PostgreSQL does.

PostgreSQL's pg_trgm lower-cases a string, splits it into words of letters and digits, pads each
word with two spaces before and one after, and takes the set of its three-character windows. The
similarity of two strings is shared trigrams over all trigrams (0 when either has none), computed
in single precision. SQLite gets this function as `trgm_similarity` on every connection
(core/database.py); tests compare it with PostgreSQL's on the same strings.
"""

from __future__ import annotations

import re
import struct

# pg_trgm's default `pg_trgm.similarity_threshold`: what its `%` operator means.
SIMILARITY_THRESHOLD = 0.3
_WORD = re.compile(r"[^\W_]+")


def trigrams(text: str) -> frozenset[str]:
    found: set[str] = set()
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(found)


def similarity(a: str | None, b: str | None) -> float:
    first, second = trigrams(a or ""), trigrams(b or "")
    if not first or not second:
        return 0.0
    shared = len(first & second)
    ratio = shared / (len(first) + len(second) - shared)
    # float4, as pg_trgm computes it, so a ratio at the threshold lands on the same side.
    single: float = struct.unpack("f", struct.pack("f", ratio))[0]
    return single
