"""Content sniffing from the first bytes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from media import PREFIX_BYTES, is_declared_type, sniff_content_type


def _encoded(format: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format)
    return out.getvalue()


@pytest.mark.parametrize(
    ("format", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_images_made_by_pillow_are_recognized(format: str, content_type: str) -> None:
    assert sniff_content_type(_encoded(format)[:PREFIX_BYTES]) == content_type


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = b"ftyp" + major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (len(body) + 4).to_bytes(4, "big") + body + b"\x00\x00\x00\x08free"


@pytest.mark.parametrize(
    ("prefix", "content_type"),
    [
        (_ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4"),
        (_ftyp(b"mp42", b"mp42", b"isom"), "video/mp4"),
        (_ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
        (_ftyp(b"mif1", b"mif1", b"heic"), "image/heic"),
        (_ftyp(b"qt  ", b"qt  "), "video/quicktime"),
        (b"\x00\x00\x00\x08wide\x00\x00\x10\x00mdat", "video/quicktime"),
        (b"\x00\x00\x10\x00moov\x00\x00\x00\x6cmvhd", "video/quicktime"),
    ],
)
def test_iso_media_files_are_recognized(prefix: bytes, content_type: str) -> None:
    assert sniff_content_type(prefix) == content_type


@pytest.mark.parametrize(
    "prefix",
    [
        b"<!DOCTYPE html><html><head><title>not an image</title></head></html>",
        b"GIF89a\x01\x00\x01\x00",
        b"RIFF\x24\x00\x00\x00WAVEfmt ",
        _ftyp(b"avif", b"avif", b"mif1"),
        _ftyp(b"abcd"),
        b"\xff\xd8",
        b"",
    ],
)
def test_other_content_is_not_recognized(prefix: bytes) -> None:
    assert sniff_content_type(prefix) is None


def test_heif_declared_either_way_matches_what_phones_write() -> None:
    prefix = _ftyp(b"heic", b"mif1", b"heic")

    assert is_declared_type(prefix, "image/heic")
    assert is_declared_type(prefix, "image/heif")
    assert not is_declared_type(prefix, "image/jpeg")
    assert not is_declared_type(b"<html>", "image/heif")
