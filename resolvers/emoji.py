"""Is a string exactly one emoji? A small grapheme check, without a Unicode segmentation library.

Accepted: one pictographic character with an optional presentation selector and skin tone,
such characters joined by ZWJ (family, profession sequences), a pair of regional indicators
(a flag), a keycap (digit, # or * with U+20E3), and tag sequences (subdivision flags).
"""

from __future__ import annotations

import unicodedata

MAX_CODE_POINTS = 32
ZWJ = 0x200D
VS16 = 0xFE0F
VS15 = 0xFE0E
KEYCAP = 0x20E3
BLACK_FLAG = 0x1F3F4
CANCEL_TAG = 0xE007F

# Extended_Pictographic, as ranges wide enough for every emoji and narrow enough to refuse text.
_PICTOGRAPHIC = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F1E5),
    (0x1F200, 0x1F3FA),
    (0x1F400, 0x1FAFF),
)


def _pictographic(cp: int) -> bool:
    return any(low <= cp <= high for low, high in _PICTOGRAPHIC)


def _regional(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _skin_tone(cp: int) -> bool:
    return 0x1F3FB <= cp <= 0x1F3FF


def _tag(cp: int) -> bool:
    return 0xE0020 <= cp <= 0xE007E


def _element(cps: list[int]) -> bool:
    """One piece of a ZWJ sequence: pictograph [VS15|VS16] [skin tone] [VS16]."""
    if not cps or not _pictographic(cps[0]):
        return False
    rest = cps[1:]
    if rest and rest[0] in (VS15, VS16):
        rest = rest[1:]
    if rest and _skin_tone(rest[0]):
        rest = rest[1:]
    if rest and rest[0] == VS16:
        rest = rest[1:]
    return not rest


def is_single_emoji(text: str) -> bool:
    cps = [ord(ch) for ch in text]
    if not cps or len(cps) > MAX_CODE_POINTS:
        return False
    if any(unicodedata.category(ch) == "Cn" for ch in text if not _tag(ord(ch)) and ord(ch) != CANCEL_TAG):
        return False
    if len(cps) == 2 and _regional(cps[0]) and _regional(cps[1]):
        return True
    if cps[-1] == KEYCAP:
        body = cps[:-1]
        if body and body[-1] == VS16:
            body = body[:-1]
        return len(body) == 1 and chr(body[0]) in "0123456789#*"
    if cps[0] == BLACK_FLAG and len(cps) > 2 and cps[-1] == CANCEL_TAG:
        return all(_tag(cp) for cp in cps[1:-1])
    if cps[0] == ZWJ or cps[-1] == ZWJ:
        return False
    parts: list[list[int]] = [[]]
    for cp in cps:
        if cp == ZWJ:
            parts.append([])
        else:
            parts[-1].append(cp)
    return all(_element(part) for part in parts)
