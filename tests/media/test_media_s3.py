"""S3-only behaviour: the policy document S3 enforces, batching, and start-up checks."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import media.s3
from media import StorageUnavailable
from media.s3 import S3Storage

OpenS3 = Callable[..., Awaitable[S3Storage]]


async def test_presigned_post_policy_pins_key_type_and_size(open_s3: OpenS3) -> None:
    # moto does not enforce these conditions, so check the policy that S3 itself would enforce.
    s3 = await open_s3()
    target = await s3.presign_upload("post/1/10.jpg", "image/png", max_size=5000, expires_in=300)
    fields = dict(target.fields)

    policy: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))

    assert target.url.endswith(f"/{s3.bucket}")
    assert fields["key"] == "post/1/10.jpg"
    assert fields["Content-Type"] == "image/png"
    assert {"key": "post/1/10.jpg"} in policy["conditions"]
    assert {"bucket": s3.bucket} in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert ["content-length-range", 1, 5000] in policy["conditions"]
    assert policy["expiration"].startswith(target.expires_at.strftime("%Y-%m-%dT%H:%M"))


async def test_delete_works_in_batches(open_s3: OpenS3, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media.s3, "DELETE_BATCH", 2)
    s3 = await open_s3()
    keys = [f"story/5/{n}.jpg" for n in range(5)]
    for key in keys:
        await s3.put(key, b"x", "image/jpeg")

    await s3.delete([*keys, "story/5/missing.jpg"])

    for key in keys:
        assert await s3.head(key) is None


async def test_public_base_url_gives_unsigned_cdn_urls(open_s3: OpenS3) -> None:
    s3 = await open_s3(public_base_url="https://cdn.example.com/")

    assert await s3.download_url("post/1/1.jpg", 60) == "https://cdn.example.com/post/1/1.jpg"


async def test_check_names_a_missing_bucket(open_s3: OpenS3, aws_env: str) -> None:
    s3 = await open_s3(bucket="no-such-bucket")

    with pytest.raises(StorageUnavailable, match=rf"'no-such-bucket' at {aws_env} does not exist"):
        await s3.check()


async def test_check_names_an_unreachable_endpoint(open_s3: OpenS3, dead_endpoint: str) -> None:
    s3 = await open_s3(bucket="media", endpoint_url=dead_endpoint, max_attempts=1)

    with pytest.raises(StorageUnavailable, match=rf"'media' at {dead_endpoint} is unreachable"):
        await s3.check()
