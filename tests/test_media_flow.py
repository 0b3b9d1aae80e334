"""Uploads end to end over HTTP: createUpload, the direct POST to storage, verification on attach.

The SQLite runs use the embedded disk store (served by the app), the PostgreSQL runs S3 on moto.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from core.ids import from_global_id
from media import LocalStorage
from models import Media
from resolvers.media.uploads import release_spent_uploads
from tests.harness import Api, ServerFactory, TestUser, http_client, make_jpeg, post_form
from tests.media_files import make_mp4

CREATE_UPLOAD = """
mutation($input: CreateUploadInput!) {
  createUpload(input: $input) {
    media { id status byteSize kind }
    upload { url fields { name value } expiresAt }
  }
}
"""
SET_AVATAR = """
mutation($id: ID!) {
  updateProfile(input: {avatarMediaId: $id}) {
    avatar { id status kind contentType width height url variants { name width height url } }
  }
}
"""
MEDIA_NODE = "query($id: ID!) { node(id: $id) { ... on Media { id status } } }"


def jpeg_with_gps(width: int, height: int, color: str = "blue") -> bytes:
    image = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    exif[0x8825] = {2: (48.0, 51.0, 24.0), 1: "N"}  # GPSInfo: a location that must not leak
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


async def test_photo_upload_becomes_ready_with_variants_and_no_location(api: Api) -> None:
    alice = await api.sign_up()
    media_id = await api.upload(alice, "AVATAR", jpeg_with_gps(1600, 1200))

    avatar = (await api.gql(SET_AVATAR, {"id": media_id}, token=alice.token))["updateProfile"]["avatar"]

    assert avatar["status"] == "READY"
    assert (avatar["width"], avatar["height"]) == (1600, 1200)
    assert [(v["name"], v["width"], v["height"]) for v in avatar["variants"]] == [
        ("w150", 150, 112),
        ("w640", 640, 480),
        ("w1080", 1080, 810),
    ]
    async with http_client() as client:
        original = await client.get(avatar["url"])
        smallest = await client.get(avatar["variants"][0]["url"])
    assert original.status_code == 200 and smallest.status_code == 200
    assert Image.open(io.BytesIO(original.content)).size == (1600, 1200)
    assert 0x8825 not in Image.open(io.BytesIO(original.content)).getexif()


async def test_video_upload_is_stored_as_is(api: Api) -> None:
    alice = await api.sign_up()
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200
    media_id = await api.upload(alice, "POST", video, "video/mp4")
    # Attaching as an avatar is refused by purpose before anything else happens.
    errors = await api.gql_error(SET_AVATAR, {"id": media_id}, token=alice.token)
    assert errors.codes == ["BAD_USER_INPUT"]
    node = (await api.gql(MEDIA_NODE, {"id": media_id}, token=alice.token))["node"]
    assert node == {"id": media_id, "status": "PENDING"}


async def test_disallowed_uploads_are_refused_before_a_url_is_issued(api: Api) -> None:
    alice = await api.sign_up()
    cases = [
        {"contentType": "text/html", "byteSize": 100, "purpose": "POST"},
        {"contentType": "video/mp4", "byteSize": 100, "purpose": "AVATAR"},
        {"contentType": "image/jpeg", "byteSize": 21 * 1024 * 1024, "purpose": "POST"},
        {"contentType": "image/jpeg", "byteSize": 0, "purpose": "POST"},
    ]
    for case in cases:
        errors = await api.gql_error(CREATE_UPLOAD, {"input": case}, token=alice.token)
        assert errors.codes == ["BAD_USER_INPUT"], case
    assert (await api.gql_error(CREATE_UPLOAD, {"input": cases[0]})).codes == ["UNAUTHENTICATED"]


async def test_a_lying_content_type_fails_at_attach_and_writes_nothing(api: Api) -> None:
    alice = await api.sign_up()
    html = b"<!doctype html><html><script>alert(1)</script></html>"
    media_id = await api.upload(alice, "AVATAR", html, "image/jpeg")

    errors = await api.gql_error(SET_AVATAR, {"id": media_id}, token=alice.token)

    assert errors.codes == ["BAD_USER_INPUT"]
    viewer = await api.gql("{ viewer { avatar { id } } }", token=alice.token)
    assert viewer["viewer"]["avatar"] is None
    node = (await api.gql(MEDIA_NODE, {"id": media_id}, token=alice.token))["node"]
    assert node["status"] == "FAILED"


async def test_a_corrupt_image_ends_failed(api: Api) -> None:
    alice = await api.sign_up()
    corrupt = make_jpeg(800, 600)[:300]
    media_id = await api.upload(alice, "AVATAR", corrupt, "image/jpeg")
    assert (await api.gql_error(SET_AVATAR, {"id": media_id}, token=alice.token)).codes == ["BAD_USER_INPUT"]
    node = (await api.gql(MEDIA_NODE, {"id": media_id}, token=alice.token))["node"]
    assert node["status"] == "FAILED"


async def test_a_missing_upload_fails(api: Api) -> None:
    alice = await api.sign_up()
    created = await api.gql(
        CREATE_UPLOAD,
        {"input": {"contentType": "image/jpeg", "byteSize": 500, "purpose": "AVATAR"}},
        alice.token,
    )
    media_id = created["createUpload"]["media"]["id"]
    assert (await api.gql_error(SET_AVATAR, {"id": media_id}, token=alice.token)).codes == ["BAD_USER_INPUT"]


async def test_someone_elses_media_is_not_found(api: Api) -> None:
    alice, mallory = await api.sign_up(), await api.sign_up()
    media_id = await api.upload(alice, "AVATAR")
    assert (await api.gql_error(SET_AVATAR, {"id": media_id}, token=mallory.token)).codes == ["NOT_FOUND"]
    assert (await api.gql(MEDIA_NODE, {"id": media_id}, token=mallory.token))["node"] is None


async def test_embedded_store_enforces_the_policy(asgi: ServerFactory) -> None:
    """Storage itself refuses an oversized or retyped upload. The embedded store, on each database
    (moto's S3 server does not enforce POST policies: the policy S3 gets is checked in tests/media)."""
    async with asgi() as api:
        await _the_store_refuses_what_the_policy_does_not_allow(api)


async def _the_store_refuses_what_the_policy_does_not_allow(api: Api) -> None:
    assert isinstance(api.services.storage, LocalStorage)
    alice = await api.sign_up()
    data = make_jpeg()
    created = await api.gql(
        CREATE_UPLOAD,
        {"input": {"contentType": "image/jpeg", "byteSize": len(data) - 10, "purpose": "POST"}},
        token=alice.token,
    )
    target = created["createUpload"]["upload"]
    assert (await post_form(target, data, "image/jpeg")).status_code == 400
    retyped = {
        **target,
        "fields": [
            {"name": f["name"], "value": "image/png" if f["name"] == "Content-Type" else f["value"]}
            for f in target["fields"]
        ],
    }
    assert (await post_form(retyped, data[:100], "image/png")).status_code == 403
    api.clock.advance(3600)
    assert (await post_form(target, data[:100], "image/jpeg")).status_code == 403


async def test_cleanup_removes_abandoned_uploads_and_keeps_attached_media(api: Api) -> None:
    from resolvers.media.uploads import sweep_abandoned_uploads

    alice = await api.sign_up()
    kept = await api.upload(alice, "AVATAR")
    await api.gql(SET_AVATAR, {"id": kept}, token=alice.token)
    abandoned = await api.upload(alice, "POST")

    assert await sweep_abandoned_uploads(api.services) == 0  # still inside the grace period
    api.clock.advance(api.services.settings.media_abandoned_after_seconds + 1)
    assert await sweep_abandoned_uploads(api.services) == 1
    assert await sweep_abandoned_uploads(api.services) == 0  # idempotent

    assert (await api.gql(MEDIA_NODE, {"id": abandoned}, token=alice.token))["node"] is None
    avatar = (await api.gql("{ viewer { avatar { id url } } }", token=alice.token))["viewer"]["avatar"]
    assert avatar["id"] == kept
    async with http_client() as client:
        assert (await client.get(avatar["url"])).status_code == 200


async def test_a_video_attached_to_a_post_downloads_unchanged(api: Api) -> None:
    alice = await api.sign_up()
    video = make_mp4(1.0, 320, 240)
    media_id = await api.upload(alice, "POST", video, "video/mp4")
    post = await api.gql(
        """mutation($m: ID!) { createPost(input: {caption: "clip", mediaIds: [$m]}) {
             media { id kind status contentType byteSize url variants { name } } } }""",
        {"m": media_id},
        alice.token,
    )
    (media,) = post["createPost"]["media"]
    assert (media["kind"], media["status"], media["contentType"]) == ("VIDEO", "READY", "video/mp4")
    assert media["byteSize"] == len(video) and media["variants"] == []
    async with http_client() as client:
        assert (await client.get(media["url"])).content == video


POST_MEDIA = """
mutation($m: ID!) { createPost(input: {caption: "mine", mediaIds: [$m]}) {
  id media { url variants { url } poster { url variants { url } } } } }
"""
POST_NODE = (
    "query($id: ID!) { node(id: $id) { ... on Post { media { url variants { url } poster { url } } } } }"
)


async def _served(post: dict[str, Any]) -> list[bytes]:
    """The bytes behind every URL of the post's media: original, renditions, poster."""
    (media,) = post["media"]
    urls = [media["url"], *(v["url"] for v in media["variants"])]
    if media["poster"]:
        urls.append(media["poster"]["url"])
    async with http_client() as client:
        responses = [await client.get(url) for url in urls]
    assert all(response.status_code == 200 for response in responses)
    return [response.content for response in responses]


async def _upload_keeping_the_form(
    api: Api, user: TestUser, data: bytes, content_type: str
) -> tuple[str, Any]:
    created = await api.gql(
        CREATE_UPLOAD,
        {"input": {"contentType": content_type, "byteSize": len(data), "purpose": "POST"}},
        user.token,
    )
    target = created["createUpload"]["upload"]
    assert (await post_form(target, data, content_type)).is_success
    return created["createUpload"]["media"]["id"], target


@pytest.mark.parametrize("kind", ["photo", "video"])
async def test_posting_the_upload_form_again_after_attach_changes_nothing_served(api: Api, kind: str) -> None:
    alice = await api.sign_up()
    if kind == "photo":
        first, second, content_type = jpeg_with_gps(1200, 900), jpeg_with_gps(1200, 900, "red"), "image/jpeg"
    else:
        first, second, content_type = make_mp4(1.0, 320, 240), make_mp4(1.0, 320, 240, fps=10), "video/mp4"
    assert len(second) <= len(first)  # the form admits up to the declared size
    media_id, form = await _upload_keeping_the_form(api, alice, first, content_type)
    post = (await api.gql(POST_MEDIA, {"m": media_id}, alice.token))["createPost"]
    served = await _served(post)

    assert (await post_form(form, second, content_type)).is_success  # the form has not expired yet

    again = (await api.gql(POST_NODE, {"id": post["id"]}, alice.token))["node"]
    assert await _served(again) == served
    if kind == "photo":
        assert 0x8825 not in Image.open(io.BytesIO(served[0])).getexif()
    else:
        assert served[0] == first


async def test_a_leftover_upload_object_is_deleted_once_its_form_expires(api: Api) -> None:
    alice = await api.sign_up()
    photo = jpeg_with_gps(800, 600)
    media_id, form = await _upload_keeping_the_form(api, alice, photo, "image/jpeg")
    post = (await api.gql(POST_MEDIA, {"m": media_id}, alice.token))["createPost"]
    served = await _served(post)
    row = await _media_row(api, media_id)
    assert row.upload_key is not None and row.upload_key != row.storage_key
    assert await api.services.storage.head(row.upload_key) is None  # verification removed it
    assert (await post_form(form, photo, "image/jpeg")).is_success  # a client posts it again
    assert await api.services.storage.head(row.upload_key) is not None

    assert await release_spent_uploads(api.services) == 0  # the form can still be used
    api.clock.advance(api.services.settings.media_upload_expires_seconds + 1)
    assert await release_spent_uploads(api.services) == 1
    assert await release_spent_uploads(api.services) == 0  # idempotent

    assert await api.services.storage.head(row.upload_key) is None
    assert (await _media_row(api, media_id)).upload_key is None
    again = (await api.gql(POST_NODE, {"id": post["id"]}, alice.token))["node"]
    assert await _served(again) == served


async def _media_row(api: Api, global_id: str) -> Media:
    decoded = from_global_id(global_id)
    assert decoded is not None and decoded[0] == "Media"
    async with api.services.db.read() as session:
        row = await session.get(Media, decoded[1])
    assert row is not None
    return row
