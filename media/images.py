"""Re-encoding uploaded images: metadata stripped, orientation applied, resized variants.

Variants are always JPEG (quality 85, transparency flattened on white): every client can
show them and they are the smallest for photos. The original keeps its format (JPEG, PNG
or WebP) and its ICC colour profile, but loses EXIF (GPS, camera, orientation) and XMP.
Animated images keep their first frame only. HEIC is stored as uploaded: Pillow cannot
decode it without a plugin, so callers ask `can_process` first and keep HEIC without
dimensions or variants.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from PIL import Image, ImageOps

DEFAULT_WIDTHS = (150, 640, 1080)
DEFAULT_MAX_PIXELS = 40_000_000
_KEPT_INFO = ("icc_profile", "transparency")
_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Resizing is CPU-bound; a small pool keeps a burst of uploads from starving everything else.
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="media-images")


class ImageRejected(Exception):
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


def can_process(content_type: str) -> bool:
    return content_type in _FORMATS.values()


def process_image(
    data: bytes,
    *,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ProcessedImage:
    """Blocking and CPU-heavy: run it through `process_image_off_loop` from async code."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            # Opening reads only the header, so this refuses a bomb before any pixel is decoded.
            if opened.width * opened.height > max_pixels:
                raise ImageRejected(f"image has more than {max_pixels} pixels")
            if opened.format not in _FORMATS:
                raise ImageRejected(f"unsupported image format {opened.format}")
            content_type = _FORMATS[opened.format]
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("image is too large to decode") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(f"image cannot be decoded: {exc}") from exc

    with image:
        # Savers write EXIF/XMP only when asked, but a JPEG comment or PNG text travels in info.
        image.info = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
        return ProcessedImage(
            width=image.width,
            height=image.height,
            original=_encode_original(image, content_type),
            original_content_type=content_type,
            variants=_variants(image, widths),
        )


async def process_image_off_loop(
    data: bytes,
    *,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ProcessedImage:
    loop = asyncio.get_running_loop()
    job = partial(process_image, data, widths=widths, max_pixels=max_pixels)
    return await loop.run_in_executor(_executor, job)


def _encode_original(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == "image/jpeg":
        image.save(out, "JPEG", quality=90, optimize=True, **_icc(image))
    elif content_type == "image/webp":
        image.save(out, "WEBP", quality=90, **_icc(image))
    else:
        image.save(out, "PNG", **_icc(image))
    return out.getvalue()


def _variants(image: Image.Image, widths: Sequence[int]) -> list[Variant]:
    targets = sorted(w for w in set(widths) if w < image.width) or [image.width]
    rgb = _flatten(image)
    try:
        return [_variant(rgb, width) for width in targets]
    finally:
        if rgb is not image:
            rgb.close()


def _variant(rgb: Image.Image, width: int) -> Variant:
    height = max(1, round(rgb.height * width / rgb.width))
    with rgb.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0) as resized:
        out = io.BytesIO()
        resized.save(out, "JPEG", quality=85, optimize=True, progressive=True, **_icc(rgb))
    return Variant(f"w{width}", width, height, out.getvalue(), "image/jpeg")


def _icc(image: Image.Image) -> dict[str, bytes]:
    icc_profile = image.info.get("icc_profile")
    return {} if icc_profile is None else {"icc_profile": icc_profile}


def _flatten(image: Image.Image) -> Image.Image:
    """An RGB (or greyscale) image, transparent areas laid on white, ready for JPEG."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
        with image.convert("RGBA") as rgba:
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = image.convert("RGB")
    flat.info = dict(image.info)
    return flat
