"""Generated pictures for the demo world: gradients, a few shapes and a label, as JPEG bytes."""

from __future__ import annotations

import colorsys
import io
import random

from PIL import Image, ImageDraw, ImageFont

AVATAR = (320, 320)
POST = (720, 720)
STORY = (540, 960)


def _colour(rng: random.Random, lightness: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(rng.random(), lightness, 0.55 + rng.random() * 0.35)
    return int(r * 255), int(g * 255), int(b * 255)


def _gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82)
    return buffer.getvalue()


def _centered_text(draw: ImageDraw.ImageDraw, size: tuple[int, int], text: str, font_size: int) -> None:
    font = ImageFont.load_default(size=font_size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = (size[0] - (right - left)) / 2 - left
    y = (size[1] - (bottom - top)) / 2 - top
    draw.text((x + 3, y + 3), text, font=font, fill=(0, 0, 0, 90))
    draw.text((x, y), text, font=font, fill=(255, 255, 255))


def avatar(seed: str, initials: str) -> bytes:
    rng = random.Random(seed)
    image = _gradient(AVATAR, _colour(rng, 0.6), _colour(rng, 0.35))
    draw = ImageDraw.Draw(image, "RGBA")
    _centered_text(draw, AVATAR, initials.upper(), 130)
    return _jpeg(image)


def picture(seed: str, label: str, size: tuple[int, int] = POST) -> bytes:
    """A gradient with translucent circles and rectangles, and a short label in the middle."""
    rng = random.Random(seed)
    image = _gradient(size, _colour(rng, 0.65), _colour(rng, 0.3))
    draw = ImageDraw.Draw(image, "RGBA")
    width, height = size
    for _ in range(rng.randint(4, 9)):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randint(width // 12, width // 3)
        fill = (*_colour(rng, 0.7), rng.randint(50, 120))
        if rng.random() < 0.6:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)
        else:
            draw.rectangle((x - radius, y - radius // 2, x + radius, y + radius // 2), fill=fill)
    _centered_text(draw, size, label, max(28, width // 12))
    return _jpeg(image)
