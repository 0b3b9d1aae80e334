"""Media files as phones send them, made in the tests: HEIC photos (pillow-heif) and MP4 videos (PyAV)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Literal

import av
import pillow_heif
from PIL import ExifTags, Image

pillow_heif.register_heif_opener()

# Where the fixtures say they were taken: it must never come back through the API.
GPS_ISO6709 = "+48.8584+002.2945/"


def make_heic(width: int = 1600, height: int = 1200, *, gps: bool = True, color: str = "teal") -> bytes:
    """A HEIC as an iPhone writes one (HEVC in an ISO box file), with camera make and GPS in EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    if gps:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSLatitudeRef] = "N"
        info[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 30.0)
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "HEIF", quality=60, exif=exif.tobytes())
    return out.getvalue()


def make_mp4(
    seconds: float = 2.0,
    width: int = 320,
    height: int = 240,
    *,
    fps: int = 15,
    codec: Literal["libx264", "libx265"] = "libx264",
    rotation: int = 0,
    gps: bool = True,
    container: str = "mp4",
) -> bytes:
    """An H.264 (or HEVC: codec="libx265") video of changing colour, with a GPS location tag."""
    out = io.BytesIO()
    with av.open(out, "w", format=container) as output:
        if gps:
            output.metadata["location"] = GPS_ISO6709
            output.metadata["com.apple.quicktime.location.ISO6709"] = GPS_ISO6709
        stream = output.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "libx265":
            stream.options = {"x265-params": "log-level=none"}
        if rotation:
            stream.set_display_rotation(rotation)
        for index in range(round(seconds * fps)):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([index * 7 % 256]) * plane.buffer_size)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return out.getvalue()


def make_audio_only_mp4() -> bytes:
    """A real MP4 container holding only sound."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as output:
        stream = output.add_stream("aac", rate=44100)
        frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
        frame.sample_rate = 44100
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        for index in range(40):
            frame.pts = index * 1024
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return out.getvalue()


def with_empty_video_track(video: bytes) -> bytes:
    """The same MP4 with a zero-length video track: its sample tables list no frame at all."""
    patched = bytearray(video)
    stsz = patched.index(b"stsz")
    struct.pack_into(">I", patched, stsz + 12, 0)  # version/flags, sample size, sample count
    stts = patched.index(b"stts")
    struct.pack_into(">I", patched, stts + 8, 0)  # version/flags, entry count
    return bytes(patched)


def claiming_frames(video: bytes, frames: int) -> bytes:
    """The same MP4 with its time-to-sample table claiming `frames` frames (a header, no pictures)."""
    patched = bytearray(video)
    stts = patched.index(b"stts")
    # stts: version/flags (4 bytes), entry count (4), then (sample count, sample delta) pairs.
    struct.pack_into(">I", patched, stts + 12, frames)
    return bytes(patched)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header claiming `width` x `height` pixels, with no pixels: a decompression bomb's shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
