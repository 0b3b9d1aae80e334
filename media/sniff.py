"""What a file really is, from its first bytes (never trust the declared content type)."""

from __future__ import annotations

PREFIX_BYTES = 64  # enough for every signature below, including a dozen ftyp brands

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V "}
_QT_BRANDS = {b"qt  "}
_AVIF_BRANDS = {b"avif", b"avis"}  # also declare mif1, but Pillow cannot read them here
_QT_LEADING_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


# Phones label the same HEIF files either way; the sniffer says image/heic for both.
_ALIASES = {"image/heif": "image/heic"}


def is_declared_type(prefix: bytes, declared: str) -> bool:
    """Whether the first bytes really are of the type the client declared."""
    actual = sniff_content_type(prefix)
    return actual is not None and actual == _ALIASES.get(declared, declared)


def sniff_content_type(prefix: bytes) -> str | None:
    """image/jpeg, image/png, image/webp, image/heic, video/mp4, video/quicktime, or None."""
    if prefix.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if prefix.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if prefix[:4] == b"RIFF" and prefix[8:12] == b"WEBP":
        return "image/webp"
    if prefix[4:8] == b"ftyp":
        return _sniff_ftyp(prefix)
    if prefix[4:8] in _QT_LEADING_ATOMS:
        return "video/quicktime"
    return None


def _sniff_ftyp(prefix: bytes) -> str | None:
    """ISO base media file: the major brand decides, else the first known compatible brand."""
    box_end = min(int.from_bytes(prefix[:4], "big"), len(prefix))
    major = prefix[8:12]
    compatible = [prefix[i : i + 4] for i in range(16, box_end - 3, 4)]
    brands = [major, *compatible]
    if _AVIF_BRANDS.intersection(brands):
        return None
    for brand in brands:
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _MP4_BRANDS:
            return "video/mp4"
        if brand in _QT_BRANDS:
            return "video/quicktime"
    return None
