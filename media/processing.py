"""One uploaded file, checked and rendered: the job the server hands to `media.workers`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from media.images import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_WIDTHS,
    MediaRejected,
    ProcessedImage,
    Variant,
    process_image,
)
from media.video import ProcessedVideo, process_video


@dataclass(frozen=True)
class Limits:
    max_video_seconds: float = 60.0
    max_pixels: int = DEFAULT_MAX_PIXELS
    widths: tuple[int, ...] = DEFAULT_WIDTHS


# What a worker's answer to `process_file` may contain (see media.workers).
PROCESSING_RESULTS = (ProcessedImage, ProcessedVideo, Variant, MediaRejected)


def process_file(path: str, kind: str, limits: Limits) -> ProcessedImage | ProcessedVideo:
    """`kind` is IMAGE or VIDEO; raises `MediaRejected` saying why the file cannot be used."""
    if kind == "VIDEO":
        return process_video(
            path, max_seconds=limits.max_video_seconds, widths=limits.widths, max_pixels=limits.max_pixels
        )
    return process_image(Path(path).read_bytes(), widths=limits.widths, max_pixels=limits.max_pixels)
