"""How long attaching a phone's upload takes: a 12-megapixel HEIC photo and a 15-second 1080p video.

    python -m bench.media --repeats 5

A real server on the embedded default (SQLite, media on local disk) on a loopback port, as in the
tests. Each round uploads the file through its pre-signed form (not timed), then times the
mutation that attaches it (createPost for the photo, createStory for the video): the object
checks, the copy, decoding in a worker process, renditions, poster and placeholder, the writes.
Beside it, the same decoding alone (`process_file` in the worker pool), to show the share of
the request that is decoding. The first attach of a fresh server also starts a worker (~1 s):
a warm-up round is run and not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import av
import pillow_heif
from PIL import Image

from media import PROCESSING_RESULTS, Limits, WorkerPool, process_file
from tests.harness import Api, running_server, test_settings

pillow_heif.register_heif_opener()

POST = 'mutation($m: ID!) { createPost(input: {caption: "bench", mediaIds: [$m]}) { media { status } } }'
STORY = "mutation($m: ID!) { createStory(input: {mediaId: $m}) { media { status durationSeconds } } }"


def iphone_heic() -> bytes:
    """4032x3024 with texture (noise over a gradient): about the size of an iPhone's HEIC."""
    noise = Image.effect_noise((4032, 3024), 4)
    gradient = Image.linear_gradient("L").resize((4032, 3024))
    image = Image.merge("RGB", (noise, gradient, Image.blend(noise, gradient, 0.5)))
    out = io.BytesIO()
    image.save(out, "HEIF", quality=70)
    return out.getvalue()


def phone_video(seconds: int = 15, fps: int = 30) -> bytes:
    """1920x1080 H.264 at about 16 Mbit/s, what a phone records (noise keeps the bitrate honest)."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.bit_rate = 16_000_000
        textures = [os.urandom(1920 * 1080) for _ in range(8)]
        for index in range(seconds * fps):
            frame = av.VideoFrame(1920, 1080, "yuv420p")
            frame.planes[0].update(textures[index % len(textures)])
            frame.planes[1].update(bytes([index % 256]) * frame.planes[1].buffer_size)
            frame.planes[2].update(bytes([128]) * frame.planes[2].buffer_size)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return out.getvalue()


async def attach_times(api: Api, data: bytes, content_type: str, purpose: str, rounds: int) -> list[float]:
    user = await api.sign_up()
    mutation = STORY if purpose == "STORY" else POST
    times = []
    for index in range(rounds + 1):
        media_id = await api.upload(user, purpose, data, content_type)
        started = time.perf_counter()
        result = await api.gql(mutation, {"m": media_id}, user.token)
        elapsed = time.perf_counter() - started
        media = result["createStory" if purpose == "STORY" else "createPost"]["media"]
        assert (media if purpose == "STORY" else media[0])["status"] == "READY"
        if index:  # the first round starts a worker
            times.append(elapsed)
    return times


async def decode_times(data: bytes, kind: str, rounds: int) -> list[float]:
    pool = WorkerPool(1, 300, preload=["media.processing"], results=PROCESSING_RESULTS)
    times = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "upload"
            path.write_bytes(data)
            for index in range(rounds + 1):
                started = time.perf_counter()
                await pool.run(process_file, str(path), kind, Limits())
                if index:
                    times.append(time.perf_counter() - started)
    finally:
        await pool.close()
    return times


def line(name: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return f"| {name} | {statistics.median(ms):,.0f} ms | {ms[0]:,.0f} ms | {ms[-1]:,.0f} ms |"


async def main(rounds: int) -> None:
    heic, video = iphone_heic(), phone_video()
    print(f"HEIC {len(heic) / 1e6:.1f} MB (4032x3024), video {len(video) / 1e6:.1f} MB (1920x1080, 15 s)")
    with tempfile.TemporaryDirectory() as data_dir:
        database = f"sqlite+aiosqlite:///{data_dir}/bench.db"
        settings = test_settings(database, None, Path(data_dir), migrate_on_start=True)
        async with running_server(settings) as api:
            photo = await attach_times(api, heic, "image/heic", "POST", rounds)
            clip = await attach_times(api, video, "video/mp4", "STORY", rounds)
    print("| attach (whole mutation) | p50 | min | max |\n|---|---|---|---|")
    print(line("12 MP HEIC photo, createPost", photo))
    print(line("15 s 1080p video, createStory", clip))
    print("| decoding alone (worker) | p50 | min | max |\n|---|---|---|---|")
    print(line("12 MP HEIC photo", await decode_times(heic, "IMAGE", rounds)))
    print(line("15 s 1080p video", await decode_times(video, "VIDEO", rounds)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=5)
    asyncio.run(main(parser.parse_args().repeats))
