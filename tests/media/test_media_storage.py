"""The `Storage` contract, run against S3 (moto) and local disk with the same client code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from media import ObjectNotFound, Storage, UploadTarget

JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"0123456789" * 10
MOTO_IGNORES_POLICY = "moto 5.2.5 does not check POST policy conditions (test_media_s3 checks the policy)"


async def post_upload(
    http: httpx.AsyncClient, target: UploadTarget, data: bytes, **overrides: str
) -> httpx.Response:
    """What a client app does: the signed fields in order, then the bytes as the last field `file`."""
    fields = {name: overrides.get(name, value) for name, value in target.fields}
    return await http.post(target.url, data=fields, files={"file": ("upload", data, "image/jpeg")})


async def test_upload_lands_and_head_reports_it(storage: Storage, http: httpx.AsyncClient) -> None:
    target = await storage.presign_upload("post/1/10.jpg", "image/jpeg", max_size=1000, expires_in=300)

    response = await post_upload(http, target, JPEG_BYTES)

    assert response.status_code == 204, response.text
    info = await storage.head("post/1/10.jpg")
    assert info is not None
    assert info.size == len(JPEG_BYTES)
    assert info.content_type == "image/jpeg"
    assert await storage.get("post/1/10.jpg") == JPEG_BYTES


@pytest.mark.parametrize("size", [0, 1001])
async def test_upload_outside_size_range_is_refused(
    storage: Storage, http: httpx.AsyncClient, backend: str, size: int
) -> None:
    target = await storage.presign_upload("post/1/11.jpg", "image/jpeg", max_size=1000, expires_in=300)

    response = await post_upload(http, target, b"x" * size)

    if backend == "s3" and response.is_success:
        pytest.skip(MOTO_IGNORES_POLICY)
    assert response.status_code == 400
    assert ("EntityTooSmall" if size == 0 else "EntityTooLarge") in response.text
    assert await storage.head("post/1/11.jpg") is None


@pytest.mark.parametrize(
    "overrides",
    [{"Content-Type": "text/html"}, {"key": "post/1/other.jpg"}],
    ids=["content-type", "key"],
)
async def test_upload_not_matching_the_policy_is_refused(
    storage: Storage, http: httpx.AsyncClient, backend: str, overrides: dict[str, str]
) -> None:
    target = await storage.presign_upload("post/1/12.jpg", "image/jpeg", max_size=1000, expires_in=300)

    response = await post_upload(http, target, JPEG_BYTES, **overrides)

    if backend == "s3" and response.is_success:
        pytest.skip(MOTO_IGNORES_POLICY)
    assert response.status_code == 403
    assert "AccessDenied" in response.text
    assert await storage.head("post/1/12.jpg") is None
    assert await storage.head("post/1/other.jpg") is None


async def test_expired_upload_is_refused(
    storage: Storage, http: httpx.AsyncClient, backend: str, advance_clock: Callable[[int], None]
) -> None:
    target = await storage.presign_upload("post/1/13.jpg", "image/jpeg", max_size=1000, expires_in=60)
    advance_clock(61)

    response = await post_upload(http, target, JPEG_BYTES)

    if backend == "s3" and response.is_success:
        pytest.skip(MOTO_IGNORES_POLICY)
    assert response.status_code == 403
    assert "expired" in response.text
    assert await storage.head("post/1/13.jpg") is None


async def test_presign_reports_expiry_from_the_clock(
    storage: Storage, clock: Callable[[], datetime], advance_clock: Callable[[int], None]
) -> None:
    advance_clock(3600)

    target = await storage.presign_upload("post/1/14.jpg", "image/jpeg", max_size=1000, expires_in=60)

    assert target.expires_at == clock() + timedelta(seconds=60)
    names = [name for name, _ in target.fields]
    assert "key" in names
    assert "file" not in names


async def test_read_prefix_returns_the_first_bytes(storage: Storage) -> None:
    await storage.put("story/2/20.jpg", JPEG_BYTES, "image/jpeg")

    assert await storage.read_prefix("story/2/20.jpg", 4) == JPEG_BYTES[:4]
    assert await storage.read_prefix("story/2/20.jpg", 10_000) == JPEG_BYTES
    assert await storage.read_prefix("story/2/20.jpg", 0) == b""


async def test_missing_objects(storage: Storage) -> None:
    assert await storage.head("story/2/missing.jpg") is None
    with pytest.raises(ObjectNotFound):
        await storage.get("story/2/missing.jpg")
    with pytest.raises(ObjectNotFound):
        await storage.read_prefix("story/2/missing.jpg", 4)


async def test_delete_is_idempotent(storage: Storage) -> None:
    await storage.put("message/3/30.jpg", JPEG_BYTES, "image/jpeg")
    await storage.put("message/3/30_w150.jpg", JPEG_BYTES, "image/jpeg")

    await storage.delete(["message/3/30.jpg", "message/3/30_w150.jpg", "message/3/never.jpg"])
    await storage.delete(["message/3/30.jpg"])
    await storage.delete([])

    assert await storage.head("message/3/30.jpg") is None
    assert await storage.head("message/3/30_w150.jpg") is None


async def test_download_url_serves_the_bytes(storage: Storage, http: httpx.AsyncClient) -> None:
    await storage.put("post/4/40.jpg", JPEG_BYTES, "image/jpeg")

    response = await http.get(await storage.download_url("post/4/40.jpg", expires_in=300))

    assert response.status_code == 200
    assert response.content == JPEG_BYTES
    assert response.headers["content-type"] == "image/jpeg"


async def test_check_passes_for_a_usable_store(storage: Storage) -> None:
    await storage.check()


async def test_copy_duplicates_bytes_and_type_and_later_writes_to_the_source_do_not_reach_it(
    storage: Storage,
) -> None:
    await storage.put("uploads/post/5/50.mp4", b"first version", "video/mp4")

    await storage.copy("uploads/post/5/50.mp4", "media/post/5/50-a.mp4")
    await storage.put("uploads/post/5/50.mp4", b"posted again", "video/mp4")

    assert await storage.get("media/post/5/50-a.mp4") == b"first version"
    info = await storage.head("media/post/5/50-a.mp4")
    assert info is not None and info.content_type == "video/mp4"
    with pytest.raises(ObjectNotFound):
        await storage.copy("uploads/post/5/missing.mp4", "media/post/5/51-a.mp4")


async def test_download_streams_the_object_to_a_file(storage: Storage, tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # more than one chunk
    await storage.put("uploads/story/6/60.mp4", data, "video/mp4")

    size = await storage.download("uploads/story/6/60.mp4", tmp_path / "copy")

    assert size == len(data)
    assert (tmp_path / "copy").read_bytes() == data
    with pytest.raises(ObjectNotFound):
        await storage.download("uploads/story/6/missing.mp4", tmp_path / "missing")


async def test_list_pages_through_a_prefix_in_key_order(storage: Storage) -> None:
    keys = [f"uploads/post/7/{n:03d}.jpg" for n in range(7)]
    for key in keys:
        await storage.put(key, b"x" * len(key), "image/jpeg")
    await storage.put("uploads/post/70/1.jpg", b"elsewhere", "image/jpeg")
    await storage.put("media/post/7/000-a.jpg", b"served", "image/jpeg")

    pages = [page async for page in storage.list("uploads/post/7/", page_size=3)]

    assert [len(page) for page in pages] == [3, 3, 1]
    listed = [item for page in pages for item in page]
    assert [item.key for item in listed] == keys
    assert all(item.size == len(item.key) and item.modified_at.tzinfo is not None for item in listed)
    assert [item.key async for page in storage.list("nothing/") for item in page] == []
