"""Image re-encoding: metadata stripped, orientation applied, variants, and hostile inputs refused."""

from __future__ import annotations

import io

import blurhash
import pytest
from PIL import ExifTags, Image

from media import MediaRejected, process_image
from tests.media_files import make_heic, png_claiming

XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'


def _jpeg_with_gps(width: int, height: int, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneCo"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 10.0)
    out = io.BytesIO()
    Image.new("RGB", (width, height), "blue").save(out, "JPEG", exif=exif, xmp=XMP, comment=b"at home")
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_original_loses_gps_exif_and_xmp() -> None:
    data = _jpeg_with_gps(300, 200)
    with _open(data) as before:
        assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture really carries GPS

    result = process_image(data)

    assert result.original_content_type == "image/jpeg"
    for encoded in [result.original, *(variant.data for variant in result.variants)]:
        with _open(encoded) as after:
            assert not after.getexif()
            assert not {"exif", "xmp", "comment"} & after.info.keys()
        assert b"PhoneCo" not in encoded
        assert b"at home" not in encoded


def test_orientation_is_applied_and_variants_are_smallest_first() -> None:
    # Stored 1600x800 but EXIF says "rotate 90": people see it as 800x1600.
    result = process_image(_jpeg_with_gps(1600, 800, orientation=6))

    assert (result.width, result.height) == (800, 1600)
    assert [(v.name, v.width, v.height) for v in result.variants] == [("w150", 150, 300), ("w640", 640, 1280)]
    for variant in result.variants:
        with _open(variant.data) as image:
            assert (image.format, image.size) == ("JPEG", (variant.width, variant.height))
        assert variant.content_type == "image/jpeg"


def test_small_transparent_png_gets_one_variant_at_its_own_width_on_white() -> None:
    image = Image.new("RGBA", (100, 50), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")

    result = process_image(out.getvalue())

    assert result.original_content_type == "image/png"
    assert [(v.name, v.width, v.height) for v in result.variants] == [("w100", 100, 50)]
    with _open(result.variants[0].data) as variant:
        assert variant.mode == "RGB"
        red, green, blue = variant.getpixel((50, 25))  # type: ignore[misc]
        assert min(red, green, blue) > 245


def test_webp_keeps_its_format() -> None:
    out = io.BytesIO()
    Image.new("RGB", (200, 100), "green").save(out, "WEBP")

    result = process_image(out.getvalue(), widths=(150,))

    assert result.original_content_type == "image/webp"
    with _open(result.original) as original:
        assert original.format == "WEBP"


@pytest.mark.parametrize(
    ("data", "max_pixels"),
    [
        (png_claiming(100_000, 100_000), 40_000_000),  # beyond Pillow's own bomb limit
        (png_claiming(8_000, 6_000), 40_000_000),  # below Pillow's limit, above ours
        (_jpeg_with_gps(300, 200), 300 * 200 - 1),
    ],
    ids=["pillow-bomb", "over-max-pixels", "small-limit"],
)
def test_decompression_bombs_are_rejected(data: bytes, max_pixels: int) -> None:
    with pytest.raises(MediaRejected, match=r"pixels|too large"):
        process_image(data, max_pixels=max_pixels)


def _half_of_a_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((300, 200), 50).convert("RGB").save(out, "JPEG")
    return out.getvalue()[: out.tell() // 2]


@pytest.mark.parametrize(
    "data",
    [
        _half_of_a_jpeg(),
        b"\xff\xd8\xff" + b"\x00" * 100,
        b"<html></html>",
        b"GIF89a\x01\x00\x01\x00",
    ],
    ids=["truncated-jpeg", "corrupt-jpeg", "html", "gif"],
)
def test_corrupt_or_unsupported_images_are_rejected(data: bytes) -> None:
    with pytest.raises(MediaRejected):
        process_image(data)


def test_heic_is_served_as_a_clean_jpeg_with_renditions_and_a_placeholder() -> None:
    data = make_heic(1600, 1200)
    with _open(data) as before:
        assert before.format == "HEIF"
        assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture really carries GPS

    result = process_image(data)

    assert (result.width, result.height, result.original_content_type) == (1600, 1200, "image/jpeg")
    assert [(v.name, v.width, v.height) for v in result.variants] == [
        ("w150", 150, 112),
        ("w640", 640, 480),
        ("w1080", 1080, 810),
    ]
    for encoded in [result.original, *(variant.data for variant in result.variants)]:
        with _open(encoded) as after:
            assert after.format == "JPEG"
            assert not after.getexif()
        assert b"PhoneCo" not in encoded


def test_the_placeholder_is_a_blurhash_of_the_picture() -> None:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(out, "PNG")

    result = process_image(out.getvalue())

    assert blurhash.is_valid_blurhash(result.placeholder)
    painted: Image.Image = blurhash.decode(result.placeholder, 32, 24)
    red, green, blue = painted.getpixel((16, 12))  # type: ignore[misc]
    assert red > 150 and green < 80 and blue < 80


def test_a_truncated_heic_is_rejected() -> None:
    data = make_heic(800, 600)

    with pytest.raises(MediaRejected, match="cannot be decoded"):
        process_image(data[: len(data) // 2])
