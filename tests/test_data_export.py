"""Data export: built in the background into one ZIP in storage, its contents checked against what
the account made, downloaded by a signed link that expires with the file."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from media.storage import StorageUnavailable
from models import DataExport, ExportStatus, Media
from resolvers.accounts.export import STALE_AFTER, sweep_expired_exports
from tests.engagement import FOLLOW, comment
from tests.harness import Api, TestUser, http_client
from tests.posting import CREATE_POST, create_post, settle, user_id
from tests.story_helpers import create_highlight, create_story, set_archive
from tests.test_conversations import send, start

REQUEST = "mutation Export { requestDataExport { id status url createdAt expiresAt } }"
EXPORT = "query Export { dataExport { id status url createdAt expiresAt } }"


async def test_an_export_holds_what_the_account_made(api: Api) -> None:
    ann, bob = await api.sign_up("ann", email="ann@example.com"), await api.sign_up("bob")
    await api.gql(FOLLOW, {"id": bob.id}, ann.token)
    media = await api.upload(ann)
    await api.gql(CREATE_POST, {"input": {"caption": "my post", "mediaIds": [media]}}, token=ann.token)
    bob_post = await create_post(api, bob, "his")
    await comment(api, ann, bob_post, "my comment")
    await api.gql("mutation($id: ID!) { savePost(id: $id, saved: true) { id } }", {"id": bob_post}, ann.token)
    story = await create_story(api, ann, "PUBLIC")
    await create_highlight(api, ann, [story], "Summer")
    await send(api, ann, await start(api, ann, bob), "my message")
    await settle(api)

    requested = (await api.gql(REQUEST, token=ann.token))["requestDataExport"]
    assert requested["status"] == "PENDING" and requested["url"] is None
    # One at a time: asking again while it is being built returns the same export.
    assert (await api.gql(REQUEST, token=ann.token))["requestDataExport"]["id"] == requested["id"]
    assert (await api.gql(EXPORT, token=bob.token))["dataExport"] is None

    await settle(api)  # the outbox builds it, off the request
    ready = (await api.gql(EXPORT, token=ann.token))["dataExport"]
    assert ready["id"] == requested["id"] and ready["status"] == "READY"
    expires = api.clock.now() + timedelta(seconds=api.services.settings.data_export_ttl_seconds)
    assert ready["expiresAt"] == expires.isoformat()
    async with http_client() as client:
        response = await client.get(ready["url"])
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    docs = {name: json.loads(archive.read(name)) for name in archive.namelist() if name.endswith(".json")}
    assert docs["profile.json"]["username"] == "ann" and docs["profile.json"]["email"] == "ann@example.com"
    assert [f["username"] for f in docs["graph.json"]["following"]] == ["bob"]
    [post] = docs["posts.json"]
    assert post["caption"] == "my post" and len(post["media"]) == 1
    assert [c["body"] for c in docs["comments.json"]] == ["my comment"]
    assert [s["post"] for s in docs["saved.json"]] == [bob_post] and post["editedAt"] is None
    assert [(s["id"], s["highlights"]) for s in docs["stories.json"]] == [(story, ["Summer"])]
    assert [m["body"] for m in docs["messages.json"]] == ["my message"]
    # The media files are the account's own, byte for byte.
    async with api.services.db.read() as session:
        stored = {
            m.id: m.storage_key
            for m in await session.scalars(select(Media).where(Media.owner_id == user_id(ann)))
        }
    files = [name for name in archive.namelist() if name.startswith("media/")]
    assert sorted(files) == sorted({post["media"][0], docs["stories.json"][0]["media"]})
    assert archive.read(post["media"][0]) == await api.services.storage.get(stored[int(media_id_of(media))])


def media_id_of(global_id: str) -> int:
    from core.ids import from_global_id

    parsed = from_global_id(global_id)
    assert parsed is not None
    return parsed[1]


async def test_the_link_and_the_file_expire_together(api: Api) -> None:
    cat = await api.sign_up("cat")
    await api.gql(REQUEST, token=cat.token)
    await settle(api)
    async with api.services.db.read() as session:
        key = await session.scalar(select(DataExport.storage_key))
    assert key is not None and await api.services.storage.head(key) is not None

    api.clock.advance(api.services.settings.data_export_ttl_seconds)
    assert (await api.gql(EXPORT, token=cat.token))["dataExport"]["url"] is None
    assert await sweep_expired_exports(api.services) == 1
    await settle(api)
    assert await api.services.storage.head(key) is None
    # A new export may be asked for.
    assert (await api.gql(REQUEST, token=cat.token))["requestDataExport"]["status"] == "PENDING"


async def test_a_failed_build_is_failed_and_may_be_asked_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    dee = await api.sign_up("dee")

    async def refuse(key: str, data: bytes, content_type: str) -> None:
        raise StorageUnavailable("the store is away")

    monkeypatch.setattr(api.services.storage, "put", refuse)
    first = (await api.gql(REQUEST, token=dee.token))["requestDataExport"]
    await settle(api)
    failed = (await api.gql(EXPORT, token=dee.token))["dataExport"]
    assert (failed["id"], failed["status"], failed["url"]) == (first["id"], "FAILED", None)
    monkeypatch.undo()
    second = (await api.gql(REQUEST, token=dee.token))["requestDataExport"]
    assert second["id"] != first["id"] and second["status"] == "PENDING"
    await settle(api)
    assert (await api.gql(EXPORT, token=dee.token))["dataExport"]["status"] == "READY"


async def test_an_export_pending_for_hours_gives_way_to_a_new_one(api: Api) -> None:
    eli = await api.sign_up("eli")
    async with api.services.db.write() as session:  # a request whose build never ran (a dead letter)
        session.add(
            DataExport(
                id=api.services.ids.next_id(),
                user_id=user_id(eli),
                status=ExportStatus.PENDING,
                created_at=api.clock.now(),
            )
        )
    stuck = (await api.gql(EXPORT, token=eli.token))["dataExport"]
    assert (await api.gql(REQUEST, token=eli.token))["requestDataExport"]["id"] == stuck["id"]
    api.clock.advance(STALE_AFTER.total_seconds() + 1)
    fresh = (await api.gql(REQUEST, token=eli.token))["requestDataExport"]
    assert fresh["id"] != stuck["id"] and fresh["status"] == "PENDING"
    await settle(api)
    assert (await api.gql(EXPORT, token=eli.token))["dataExport"]["status"] == "READY"


async def stories_exported(api: Api, user: TestUser) -> list[str]:
    await api.gql(REQUEST, token=user.token)
    await settle(api)
    url = (await api.gql(EXPORT, token=user.token))["dataExport"]["url"]
    async with http_client() as client:
        archive = zipfile.ZipFile(io.BytesIO((await client.get(url)).content))
    return [s["id"] for s in json.loads(archive.read("stories.json"))]


async def test_an_export_keeps_the_stories_the_account_keeps(api: Api) -> None:
    fay, gil = await api.sign_up("fay"), await api.sign_up("gil")
    await set_archive(api, gil, True)
    gone = await create_story(api, fay, "PUBLIC")  # expires with the archive off, in no highlight
    archived = await create_story(api, gil, "PUBLIC")
    api.clock.advance(api.services.settings.story_ttl_seconds + 1)
    live = await create_story(api, fay, "PUBLIC")
    assert await stories_exported(api, fay) == [live]
    assert gone != live
    assert await stories_exported(api, gil) == [archived]
