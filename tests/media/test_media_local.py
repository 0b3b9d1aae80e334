"""Local-disk-only behaviour: key safety, signed downloads, and the upload route's edge cases."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from media import InvalidKey, LocalStorage, StorageUnavailable
from server.media_routes import local_media_routes

JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"0123456789" * 10


@pytest.fixture
def local(media_root: Path, clock: Callable[[], datetime]) -> LocalStorage:
    return LocalStorage(
        media_root, secret=b"s3cret", base_url="http://app.test/", clock=clock, max_upload_size=1000
    )


@pytest.fixture
async def client(local: LocalStorage) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=local_media_routes(local))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield http


@pytest.mark.parametrize(
    "key", ["../escape.jpg", "/etc/passwd", "a//b.jpg", "a/../b.jpg", ".meta/a.jpg", "a/.x", "a b", ""]
)
async def test_unsafe_keys_are_refused(local: LocalStorage, key: str) -> None:
    with pytest.raises(InvalidKey):
        await local.put(key, b"x", "image/jpeg")
    with pytest.raises(InvalidKey):
        await local.presign_upload(key, "image/jpeg", 10, 60)
    assert list(local.root.iterdir()) == []


async def test_put_replaces_atomically_and_leaves_no_temp_files(local: LocalStorage) -> None:
    await local.put("post/1/1.jpg", b"old", "image/jpeg")
    await local.put("post/1/1.jpg", b"new bytes", "image/png")

    info = await local.head("post/1/1.jpg")
    assert info is not None
    assert (info.size, info.content_type) == (9, "image/png")
    assert sorted(p.name for p in (local.root / "post/1").iterdir()) == ["1.jpg"]


async def test_download_urls_are_signed_and_expire(
    local: LocalStorage, client: httpx.AsyncClient, advance_clock: Callable[[int], None]
) -> None:
    await local.put("post/1/2.jpg", JPEG_BYTES, "image/jpeg")
    url = await local.download_url("post/1/2.jpg", expires_in=60)
    assert url.startswith("http://app.test/media/files/post/1/2.jpg?expires=")

    good = await client.get(url)
    tampered = await client.get(url[:-1] + ("0" if url[-1] != "0" else "1"))
    other_key = await client.get(url.replace("2.jpg", "3.jpg"))
    advance_clock(61)
    expired = await client.get(url)

    assert good.status_code == 200
    assert good.headers["x-content-type-options"] == "nosniff"
    assert [tampered.status_code, other_key.status_code, expired.status_code] == [403, 403, 403]
    assert "AccessDenied" in tampered.text


async def test_download_of_a_deleted_object_is_404(local: LocalStorage, client: httpx.AsyncClient) -> None:
    await local.put("post/1/4.jpg", JPEG_BYTES, "image/jpeg")
    url = await local.download_url("post/1/4.jpg", expires_in=60)
    await local.delete(["post/1/4.jpg"])

    assert (await client.get(url)).status_code == 404


async def test_public_base_url_gives_unsigned_cdn_urls(media_root: Path) -> None:
    cdn = LocalStorage(
        media_root, secret=b"k", base_url="http://app.test", public_base_url="https://cdn.test/"
    )

    assert await cdn.download_url("post/1/1.jpg", 60) == "https://cdn.test/post/1/1.jpg"


async def test_forged_policy_is_refused(local: LocalStorage, client: httpx.AsyncClient) -> None:
    target = await local.presign_upload("post/1/5.jpg", "image/jpeg", max_size=10, expires_in=60)
    fields = dict(target.fields)
    policy = json.loads(base64.b64decode(fields["policy"]))
    fields["policy"] = base64.b64encode(json.dumps({**policy, "max_size": 1000}).encode()).decode()

    response = await client.post(target.url, data=fields, files={"file": ("f", JPEG_BYTES)})

    assert response.status_code == 403
    assert await local.head("post/1/5.jpg") is None


async def test_file_must_be_the_last_field(local: LocalStorage, client: httpx.AsyncClient) -> None:
    target = await local.presign_upload("post/1/6.jpg", "image/jpeg", max_size=1000, expires_in=60)
    body, content_type = _multipart([("file", JPEG_BYTES), *target.fields])

    response = await client.post(target.url, content=body, headers={"content-type": content_type})

    assert response.status_code == 400
    assert await local.head("post/1/6.jpg") is None


async def test_body_beyond_the_upload_cap_is_refused_before_parsing(
    local: LocalStorage, client: httpx.AsyncClient
) -> None:
    # Not even valid multipart: only the early Content-Length check can answer EntityTooLarge.
    huge = b"x" * (local.max_upload_size + 100 * 1024)

    response = await client.post(
        "http://app.test/media/upload",
        content=huge,
        headers={"content-type": "multipart/form-data; boundary=b"},
    )

    assert response.status_code == 400
    assert "EntityTooLarge" in response.text


async def test_upload_without_content_length_is_refused(
    local: LocalStorage, client: httpx.AsyncClient
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"--x\r\n"

    target = await local.presign_upload("post/1/8.jpg", "image/jpeg", max_size=1000, expires_in=60)
    response = await client.post(
        target.url, content=chunks(), headers={"content-type": "multipart/form-data; boundary=x"}
    )

    assert response.status_code == 411


async def test_presign_above_the_upload_cap_is_a_configuration_error(local: LocalStorage) -> None:
    with pytest.raises(ValueError, match="upload cap"):
        await local.presign_upload("post/1/9.jpg", "image/jpeg", local.max_upload_size + 1, expires_in=60)


async def test_check_names_a_missing_directory(tmp_path: Path) -> None:
    missing = LocalStorage(tmp_path / "nope", secret=b"k", base_url="http://app.test")

    with pytest.raises(StorageUnavailable, match=r"media directory .*nope does not exist"):
        await missing.check()


def _multipart(parts: list[tuple[str, str | bytes]]) -> tuple[bytes, str]:
    """A form in exactly the given order (httpx always puts files last)."""
    chunks = []
    for name, value in parts:
        filename = '; filename="f"' if isinstance(value, bytes) else ""
        data = value if isinstance(value, bytes) else value.encode()
        chunks.append(f'--b\r\nContent-Disposition: form-data; name="{name}"{filename}\r\n\r\n'.encode())
        chunks.append(data + b"\r\n")
    return b"".join([*chunks, b"--b--\r\n"]), "multipart/form-data; boundary=b"
