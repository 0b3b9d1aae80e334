"""Checking an uploaded video with FFmpeg's libraries (PyAV): container, stream, length, poster.

The bytes are served as uploaded; this only decides whether they are a playable video and
measures them. Nothing of the container's metadata (GPS location, device) is read into the
result. Blocking and CPU-heavy: the server runs it in `media.workers` under a time budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from media.images import DEFAULT_MAX_PIXELS, DEFAULT_WIDTHS, MediaRejected, ProcessedImage, render

# What phones record and every client can play.
VIDEO_CODECS = {"h264": "H.264", "hevc": "HEVC"}
# How many packets may be read looking for the first picture before the file counts as broken.
MAX_PACKETS_BEFORE_A_PICTURE = 300
_ROTATIONS = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}


@dataclass(frozen=True)
class ProcessedVideo:
    width: int  # as displayed (a phone's portrait video is taller than wide)
    height: int
    duration_seconds: float
    codec: str  # FFmpeg's name: "h264" or "hevc"
    poster: ProcessedImage  # the first picture, rendered like a photo


def process_video(
    path: str,
    *,
    max_seconds: float,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ProcessedVideo:
    try:
        # Opening probes the streams, and probing decodes a frame: FFmpeg's own pixel cap keeps a
        # picture larger than allowed from being allocated there, before the check below can run.
        with av.open(path, metadata_errors="ignore", options={"max_pixels": str(max_pixels)}) as container:
            stream = _video_stream(container, max_pixels)
            duration = _duration(container, stream)
            if _longest_claim(container, stream, duration) > max_seconds:
                raise MediaRejected(f"the video is longer than {max_seconds:g} seconds")
            frame = _first_picture(container, stream)
            with frame.to_image() as picture:  # type: ignore[no-untyped-call]
                rotation = _ROTATIONS.get(frame.rotation % 360)
                upright = picture.transpose(rotation) if rotation is not None else picture.copy()
            with upright:
                poster = render(upright, "image/jpeg", widths)
    except av.error.FFmpegError as exc:
        raise MediaRejected(f"the video cannot be decoded ({exc.strerror or type(exc).__name__})") from exc
    return ProcessedVideo(poster.width, poster.height, duration, stream.codec_context.name, poster)


def _video_stream(container: InputContainer, max_pixels: int) -> VideoStream:
    if not container.streams.video:
        raise MediaRejected("the file has no video stream")
    stream = container.streams.video[0]
    codec = stream.codec_context.name
    if codec not in VIDEO_CODECS:
        accepted = " and ".join(VIDEO_CODECS.values())
        raise MediaRejected(f"the video is {codec}; only {accepted} play everywhere")
    if stream.width < 1 or stream.height < 1:
        raise MediaRejected("the video has no picture size")
    if stream.width * stream.height > max_pixels:
        raise MediaRejected(f"the video has more than {max_pixels} pixels a frame")
    return stream


def _duration(container: InputContainer, stream: VideoStream) -> float:
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration:
        seconds = container.duration / av.time_base
    else:
        raise MediaRejected("the video has no duration")
    if seconds <= 0:
        raise MediaRejected("the video is empty")
    return round(seconds, 3)


def _longest_claim(container: InputContainer, stream: VideoStream, duration: float) -> float:
    """The longest the headers say the video lasts: a header declaring 100,000 frames counts."""
    claims = [duration, (container.duration or 0) / av.time_base]
    rate = stream.average_rate or stream.guessed_rate
    if stream.frames and rate:
        claims.append(float(Fraction(stream.frames) / rate))
    return max(claims)


def _first_picture(container: InputContainer, stream: VideoStream) -> VideoFrame:
    for count, packet in enumerate(container.demux(stream)):
        if count >= MAX_PACKETS_BEFORE_A_PICTURE:
            break
        frames = stream.decode(packet)  # the last, empty packet flushes the decoder
        if frames:
            return frames[0]
    raise MediaRejected("the video has no picture that can be decoded")
