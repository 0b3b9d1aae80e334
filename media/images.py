"""Re-encoding uploaded images: metadata stripped, orientation applied, renditions, a placeholder.

Renditions are always JPEG (quality 85, transparency flattened on white): every client can
show them and they are the smallest for photos. A JPEG, PNG or WebP original keeps its format
and its ICC colour profile, but loses EXIF (GPS, camera, orientation) and XMP; a HEIC/HEIF
original is served as JPEG, because browsers cannot show HEIC. Animated images keep their first
frame only. Everything here is blocking and CPU-heavy: the server runs it in `media.workers`.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import blurhash
import pillow_heif
from PIL import Image, ImageOps

DEFAULT_WIDTHS = (150, 640, 1080)
DEFAULT_MAX_PIXELS = 40_000_000
_KEPT_INFO = ("icc_profile", "transparency")
# Pillow's format name -> the content type the cleaned original is served as.
_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/jpeg"}

# Thumbnails, depth maps and auxiliary images are never shown: do not decode them.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


class MediaRejected(Exception):
    """The file is not usable media; `reason` says why, in words for the uploader."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Variant:
    name: str
    width: int
    height: int
    data: bytes
    content_type: str


@dataclass(frozen=True)
class ProcessedImage:
    width: int
    height: int
    original: bytes
    original_content_type: str
    variants: list[Variant]  # smallest first
    placeholder: str  # a BlurHash of the smallest rendition


def process_image(
    data: bytes,
    *,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ProcessedImage:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            # Opening reads only the header, so this refuses a bomb before any pixel is decoded.
            if opened.width * opened.height > max_pixels:
                raise MediaRejected(f"image has more than {max_pixels} pixels")
            if opened.format not in _FORMATS:
                raise MediaRejected(f"unsupported image format {opened.format}")
            content_type = _FORMATS[opened.format]
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaRejected("image is too large to decode") from exc
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as exc:
        raise MediaRejected(f"image cannot be decoded: {exc}") from exc

    with image:
        # Savers write EXIF/XMP only when asked, but a JPEG comment or PNG text travels in info.
        image.info = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
        return render(image, content_type, widths)


def render(image: Image.Image, content_type: str, widths: Sequence[int] = DEFAULT_WIDTHS) -> ProcessedImage:
    """A decoded, upright image (a photo, or a video's poster frame) encoded for serving."""
    variants, smallest = _variants(image, widths)
    with smallest:
        placeholder = _blurhash(smallest)
    return ProcessedImage(
        width=image.width,
        height=image.height,
        original=_encode_original(image, content_type),
        original_content_type=content_type,
        variants=variants,
        placeholder=placeholder,
    )


def _encode_original(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == "image/jpeg":
        # A CMYK JPEG stays CMYK; renditions below are RGB for every client.
        with nullcontext(image) if image.mode == "CMYK" else _jpeg_ready(image) as ready:
            ready.save(out, "JPEG", quality=90, optimize=True, **_icc(image))
    elif content_type == "image/webp":
        image.save(out, "WEBP", quality=90, **_icc(image))
    else:
        image.save(out, "PNG", **_icc(image))
    return out.getvalue()


def _variants(image: Image.Image, widths: Sequence[int]) -> tuple[list[Variant], Image.Image]:
    """The renditions, smallest first, and the smallest one decoded (the caller closes it)."""
    targets = sorted(w for w in set(widths) if w < image.width) or [image.width]
    with _jpeg_ready(image) as rgb:
        variants = []
        smallest = None
        for width in targets:
            height = max(1, round(rgb.height * width / rgb.width))
            resized = rgb.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
            out = io.BytesIO()
            resized.save(out, "JPEG", quality=85, optimize=True, progressive=True, **_icc(image))
            variants.append(Variant(f"w{width}", width, height, out.getvalue(), "image/jpeg"))
            if smallest is None:
                smallest = resized
            else:
                resized.close()
    assert smallest is not None  # targets is never empty
    return variants, smallest


def _blurhash(image: Image.Image) -> str:
    components = (4, 3) if image.width >= image.height else (3, 4)
    # blurhash-python 1.2.2 reads pixels through Image.getdata, deprecated in Pillow 13 (removed
    # in 14, pinned below that): the warning is about the library, not about this image.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Image.Image.getdata", DeprecationWarning)
        # encode() closes the image it is given: hand it a copy.
        return str(blurhash.encode(image.copy(), *components))


def _icc(image: Image.Image) -> dict[str, bytes]:
    icc_profile = image.info.get("icc_profile")
    return {} if icc_profile is None else {"icc_profile": icc_profile}


@contextmanager
def _jpeg_ready(image: Image.Image) -> Iterator[Image.Image]:
    """The image itself when JPEG can store it, else an RGB copy with transparency laid on white."""
    if image.mode in ("RGB", "L") and "transparency" not in image.info:
        yield image
        return
    if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
        with image.convert("RGBA") as rgba:
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = image.convert("RGB")
    with flat:
        yield flat
