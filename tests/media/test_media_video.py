"""Videos checked with PyAV: facts and a poster from real files, and every kind of bad file refused."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Literal

import pytest
from PIL import Image

from media import MediaRejected, process_video
from media.workers import WorkerPool
from tests.media_files import (
    claiming_frames,
    make_audio_only_mp4,
    make_heic,
    make_mp4,
    with_empty_video_track,
)


def _file(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(("codec", "container"), [("libx264", "mp4"), ("libx265", "mp4"), ("libx264", "mov")])
def test_a_phone_video_gets_its_size_duration_codec_and_a_poster(
    tmp_path: Path, codec: Literal["libx264", "libx265"], container: str
) -> None:
    data = make_mp4(2.0, 1280, 720, codec=codec, container=container)

    video = process_video(_file(tmp_path, data), max_seconds=60)

    assert (video.width, video.height, video.duration_seconds) == (1280, 720, 2.0)
    assert video.codec == {"libx264": "h264", "libx265": "hevc"}[codec]
    poster = video.poster
    assert (poster.width, poster.height, poster.original_content_type) == (1280, 720, "image/jpeg")
    assert [(v.name, v.width, v.height) for v in poster.variants] == [
        ("w150", 150, 84),
        ("w640", 640, 360),
        ("w1080", 1080, 608),
    ]
    with Image.open(io.BytesIO(poster.original)) as frame:
        assert (frame.format, frame.size) == ("JPEG", (1280, 720))
    assert len(poster.placeholder) > 6


def test_a_portrait_video_recorded_sideways_is_measured_and_postered_upright(tmp_path: Path) -> None:
    # Phones store portrait video as landscape frames plus a display rotation.
    data = make_mp4(1.0, 640, 360, rotation=-90)

    video = process_video(_file(tmp_path, data), max_seconds=60)

    assert (video.width, video.height) == (360, 640)
    with Image.open(io.BytesIO(video.poster.original)) as frame:
        assert frame.size == (360, 640)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (make_audio_only_mp4(), "no video stream"),
        (make_mp4(62, 16, 16, fps=1), "longer than 60 seconds"),
        (claiming_frames(make_mp4(), 100_000), "longer than 60 seconds"),
        (with_empty_video_track(make_mp4()), "no picture"),
        (make_mp4()[:1500], "cannot be decoded"),
        (make_mp4()[:40], "cannot be decoded"),
        (make_heic(64, 48), "no duration"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200, "cannot be decoded"),
    ],
    ids=[
        "audio-only",
        "too-long",
        "100k-frame-header",
        "zero-length-stream",
        "truncated",
        "header-only",
        "a-photo",
        "ftyp-and-zeros",
    ],
)
def test_what_is_not_a_short_playable_video_is_rejected_with_the_reason(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    with pytest.raises(MediaRejected, match=reason):
        process_video(_file(tmp_path, data), max_seconds=60)


def test_the_length_limit_is_a_parameter(tmp_path: Path) -> None:
    path = _file(tmp_path, make_mp4(3.0, 64, 64))

    assert process_video(path, max_seconds=3.5).duration_seconds == 3.0
    with pytest.raises(MediaRejected, match=r"longer than 2\.5 seconds"):
        process_video(path, max_seconds=2.5)


def test_a_frame_larger_than_the_pixel_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    with pytest.raises(MediaRejected, match="more than 10000 pixels"):
        process_video(_file(tmp_path, make_mp4(1.0, 320, 240)), max_seconds=60, max_pixels=10_000)


def _memory(field: str) -> int:
    """A `Vm...` line of this process's status, in KiB (Linux)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE).group(1))  # type: ignore[union-attr]


def refusal_and_peak_growth(path: str, max_pixels: int) -> tuple[str, int]:
    """In a worker: why the video is refused, and how far its peak memory rose above where it was
    (KiB); the peak is reset first (clear_refs), so what the imports once took does not hide it."""
    Path("/proc/self/clear_refs").write_text("5")
    before = _memory("VmRSS")
    try:
        process_video(path, max_seconds=60, max_pixels=max_pixels)
    except MediaRejected as exc:
        reason = exc.reason
    else:
        reason = "accepted"
    return reason, _memory("VmHWM") - before


@pytest.mark.skipif(sys.platform != "linux", reason="reads the peak memory from /proc")
async def test_an_oversized_frame_is_refused_before_ffmpeg_decodes_one_even_while_probing(
    tmp_path: Path,
) -> None:
    # One 6000 x 6000 frame decoded is 54 MB (YUV 4:2:0); FFmpeg's probe decodes one unless capped.
    path = _file(tmp_path, make_mp4(0.2, 6000, 6000, fps=5, gps=False))
    pool = WorkerPool(size=1, timeout=60, preload=[__name__], results=[MediaRejected])
    try:
        reason, grown_kib = await pool.run(refusal_and_peak_growth, path, 1_000_000)
    finally:
        await pool.close()

    assert reason == "the video has more than 1000000 pixels a frame"
    assert grown_kib < 30 * 1024, f"peak memory grew by {grown_kib // 1024} MiB while refusing"
