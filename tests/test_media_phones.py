"""Media as phones send it, end to end over HTTP on both stores: HEIC photos, video stories with
posters and durations, placeholders; and every bad file ends FAILED with the server still healthy.

The SQLite runs use the embedded disk store (served by the app), the PostgreSQL runs S3 on moto.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
from typing import Any

import pytest
from PIL import Image

from tests.broken_decoders import crash, hang
from tests.harness import Api, ServerFactory, http_client, make_jpeg
from tests.media_files import (
    claiming_frames,
    make_audio_only_mp4,
    make_heic,
    make_mp4,
    png_claiming,
    with_empty_video_track,
)

MEDIA_FIELDS = """
  id kind status contentType byteSize width height durationSeconds videoCodec placeholder failureReason
  url variants { name width height url }
  poster { width height url variants { name width height url } }
"""
CREATE_POST = f"""
mutation($m: ID!) {{ createPost(input: {{caption: "from a phone", mediaIds: [$m]}}) {{
  id media {{ {MEDIA_FIELDS} }} }} }}
"""
CREATE_STORY = f"""
mutation($m: ID!) {{ createStory(input: {{mediaId: $m, audience: PUBLIC}}) {{
  id expiresAt media {{ {MEDIA_FIELDS} }} }} }}
"""
MEDIA_NODE = "query($id: ID!) { node(id: $id) { ... on Media { id status failureReason } } }"


async def download(url: str) -> bytes:
    async with http_client() as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    return response.content


async def test_a_heic_photo_becomes_a_clean_jpeg_with_renditions_and_a_placeholder(api: Api) -> None:
    alice = await api.sign_up()
    heic = make_heic(1600, 1200)
    media_id = await api.upload(alice, "POST", heic, "image/heic")

    (media,) = (await api.gql(CREATE_POST, {"m": media_id}, alice.token))["createPost"]["media"]

    assert (media["kind"], media["status"], media["contentType"]) == ("IMAGE", "READY", "image/jpeg")
    assert (media["width"], media["height"]) == (1600, 1200)
    assert [(v["name"], v["width"], v["height"]) for v in media["variants"]] == [
        ("w150", 150, 112),
        ("w640", 640, 480),
        ("w1080", 1080, 810),
    ]
    assert media["placeholder"] and media["durationSeconds"] is None and media["poster"] is None
    original = await download(media["url"])
    with Image.open(io.BytesIO(original)) as image:
        assert (image.format, image.size) == ("JPEG", (1600, 1200))
        assert not image.getexif()
    assert b"PhoneCo" not in original
    with Image.open(io.BytesIO(await download(media["variants"][0]["url"]))) as smallest:
        assert smallest.size == (150, 112)


async def test_a_video_story_gets_its_duration_a_poster_and_a_placeholder_and_plays_as_uploaded(
    api: Api,
) -> None:
    alice = await api.sign_up()
    video = make_mp4(2.0, 640, 360)
    media_id = await api.upload(alice, "STORY", video, "video/mp4")

    story = (await api.gql(CREATE_STORY, {"m": media_id}, alice.token))["createStory"]

    media = story["media"]
    assert (media["kind"], media["status"], media["contentType"]) == ("VIDEO", "READY", "video/mp4")
    assert (media["width"], media["height"], media["durationSeconds"]) == (640, 360, 2.0)
    assert media["videoCodec"] == "h264" and media["placeholder"] and media["variants"] == []
    poster = media["poster"]
    assert (poster["width"], poster["height"]) == (640, 360)
    # Renditions narrower than the frame only.
    assert [(v["name"], v["width"], v["height"]) for v in poster["variants"]] == [("w150", 150, 84)]
    assert await download(media["url"]) == video  # the original bytes, as uploaded
    with Image.open(io.BytesIO(await download(poster["url"]))) as frame:
        assert (frame.format, frame.size) == ("JPEG", (640, 360))
    with Image.open(io.BytesIO(await download(poster["variants"][0]["url"]))) as small:
        assert small.size == (150, 84)
    # The container's GPS tag is not exposed through the API.
    assert "48.8584" not in json.dumps(story) and "location" not in json.dumps(story).lower()


async def test_a_hevc_quicktime_video_is_ready_too(api: Api) -> None:
    alice = await api.sign_up()
    video = make_mp4(1.0, 320, 240, codec="libx265", container="mov")
    media_id = await api.upload(alice, "POST", video, "video/quicktime")

    (media,) = (await api.gql(CREATE_POST, {"m": media_id}, alice.token))["createPost"]["media"]

    assert (media["status"], media["contentType"], media["videoCodec"]) == (
        "READY",
        "video/quicktime",
        "hevc",
    )
    assert (media["width"], media["height"], media["durationSeconds"]) == (320, 240, 1.0)
    assert media["poster"]["width"] == 320
    assert await download(media["url"]) == video


BAD_FILES: list[tuple[str, bytes, str, str]] = [
    ("decompression bomb", png_claiming(100_000, 100_000), "image/png", "too large|pixels"),
    ("truncated HEIC", make_heic(800, 600)[:900], "image/heic", "cannot be decoded"),
    ("truncated video", make_mp4()[:1500], "video/mp4", "cannot be decoded"),
    ("no video stream", make_audio_only_mp4(), "video/mp4", "no video stream"),
    ("too long", make_mp4(62, 16, 16, fps=1), "video/mp4", "longer than 60 seconds"),
    ("100,000-frame header", claiming_frames(make_mp4(), 100_000), "video/mp4", "longer than 60 seconds"),
    ("zero-length stream", with_empty_video_track(make_mp4()), "video/mp4", "no picture"),
]


async def test_every_bad_file_ends_failed_with_its_reason_and_the_server_stays_healthy(api: Api) -> None:
    alice = await api.sign_up()
    for case, data, content_type, reason in BAD_FILES:
        media_id = await api.upload(alice, "POST", data, content_type)

        errors = await api.gql_error(CREATE_POST, {"m": media_id}, alice.token)

        assert errors.codes == ["BAD_USER_INPUT"], case
        assert re.search(reason, errors.errors[0]["message"]), (case, errors.errors[0]["message"])
        node = (await api.gql(MEDIA_NODE, {"id": media_id}, alice.token))["node"]
        assert node["status"] == "FAILED", case
        assert re.search(reason, node["failureReason"]), (case, node["failureReason"])
    await _a_photo_still_goes_through(api)


async def _a_photo_still_goes_through(api: Api) -> None:
    user = await api.sign_up()
    media_id = await api.upload(user, "POST", make_jpeg(800, 600))
    (media,) = (await api.gql(CREATE_POST, {"m": media_id}, user.token))["createPost"]["media"]
    assert media["status"] == "READY" and len(media["variants"]) == 2


@pytest.mark.parametrize(
    ("decoder", "reason"),
    [(hang, "the video took too long to process"), (crash, "the video could not be processed")],
    ids=["hangs", "crashes"],
)
async def test_a_decoder_that_hangs_or_crashes_ends_failed_and_the_next_upload_works(
    server: ServerFactory, monkeypatch: pytest.MonkeyPatch, decoder: Any, reason: str
) -> None:
    async with server(media_process_timeout_seconds=1.0) as api:
        alice = await api.sign_up()
        media_id = await api.upload(alice, "STORY", make_mp4(1.0, 64, 64), "video/mp4")
        before = set(api.services.media_workers.processes)

        with monkeypatch.context() as patched:
            patched.setattr("resolvers.media.uploads.process_file", decoder)
            errors = await api.gql_error(CREATE_STORY, {"m": media_id}, alice.token)

        assert errors.codes == ["BAD_USER_INPUT"]
        assert reason in errors.errors[0]["message"]
        node = (await api.gql(MEDIA_NODE, {"id": media_id}, alice.token))["node"]
        assert (node["status"], node["failureReason"]) == ("FAILED", reason)
        assert not before & set(api.services.media_workers.processes)  # that worker is gone
        await _a_photo_still_goes_through(api)


async def test_an_idle_media_worker_that_died_does_not_fail_the_next_upload(api: Api) -> None:
    alice = await api.sign_up()
    await _a_photo_still_goes_through(api)  # starts a worker, which then waits for work
    (idle,) = api.services.media_workers.processes
    os.kill(idle, signal.SIGKILL)  # the OOM killer, or an operator's stray kill

    media_id = await api.upload(alice, "POST", make_jpeg(800, 600))
    (media,) = (await api.gql(CREATE_POST, {"m": media_id}, alice.token))["createPost"]["media"]

    assert (media["status"], media["failureReason"]) == ("READY", None)
    assert idle not in api.services.media_workers.processes
