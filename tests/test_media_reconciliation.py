"""`ephemera reconcile-media` on the disk store ([sqlite]) and on S3 ([postgresql], moto), with
orphans planted both ways: objects no row names, and a row whose objects are gone."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from core.ids import from_global_id
from models import Media
from resolvers.media.reconciliation import reconcile_media, show_last_reconciliation
from resolvers.media.uploads import object_keys
from tests.conftest import FAKE_AWS_ENV
from tests.harness import Api, TestUser
from tests.processes import ROOT, clean_env

pytestmark = pytest.mark.slow

POST = "mutation($m: ID!) { createPost(input: {mediaIds: [$m]}) { media { id status } } }"


async def posted_media(api: Api, user: TestUser) -> Media:
    """A verified photo in a post: its original and renditions are in storage."""
    created = await api.gql(POST, {"m": await api.upload(user)}, user.token)
    parsed = from_global_id(created["createPost"]["media"][0]["id"])
    assert parsed is not None
    async with api.services.db.read() as session:
        media = await session.scalar(select(Media).where(Media.id == parsed[1]))
    assert media is not None and len(object_keys(media)) > 1
    return media


async def exists(api: Api, key: str) -> bool:
    return await api.services.storage.head(key) is not None


async def stored_keys(api: Api, *media: Media) -> list[str]:
    """What the rows name that storage holds (an upload released already is not there)."""
    return [key for row in media for key in object_keys(row) if await exists(api, key)]


async def test_orphans_both_ways_are_counted_and_only_old_unnamed_objects_deleted(api: Api) -> None:
    alice = await api.sign_up()
    kept, lost = await posted_media(api, alice), await posted_media(api, alice)
    storage = api.services.storage
    await storage.delete([lost.storage_key])  # a row whose original is gone
    orphans = [f"media/post/{lost.owner_id}/9000000001-abc.jpg", "uploads/story/1/9000000002.jpg"]
    for key in orphans:
        await storage.put(key, b"\xff\xd8\xff orphan", "image/jpeg")
    await storage.put("backups/2026-01-01.sql", b"not ours", "application/sql")

    stored = await stored_keys(api, kept, lost)

    # Just written, they may be uploads in flight: counted as recent, left alone.
    first = await reconcile_media(api.services, delete=True, page_size=2)
    assert (first.orphaned, first.recent, first.deleted) == (0, 2, 0)
    assert all([await exists(api, key) for key in orphans])

    # An hour after the objects were written (storage stamps them with real time, and the test's
    # clock stood still meanwhile), nothing can be in flight any more.
    api.clock.advance((datetime.now(UTC) - api.clock.now()).total_seconds() + 3601)
    report = await reconcile_media(api.services, delete=True, page_size=2)
    assert (report.objects, report.orphaned, report.recent, report.deleted) == (len(stored) + 2, 2, 0, 2)
    assert report.orphaned_bytes == 2 * len(b"\xff\xd8\xff orphan")
    assert sorted(report.orphan_keys) == sorted(orphans)
    assert (report.rows, report.missing, report.missing_media) == (2, 1, [lost.id])
    assert not any([await exists(api, key) for key in orphans])
    assert await exists(api, "backups/2026-01-01.sql")  # outside the app's prefixes: never touched
    assert all([await exists(api, key) for key in stored])  # what rows name is never deleted

    await show_last_reconciliation(api.services)
    metrics = (await api.http.get("/metrics")).text
    assert 'ephemera_media_reconciliation{count="orphaned"} 2.0' in metrics
    assert 'ephemera_media_reconciliation{count="missing"} 1.0' in metrics


async def test_the_command_reports_what_it_found(api: Api) -> None:
    alice = await api.sign_up()
    media = await posted_media(api, alice)
    await api.services.storage.put(f"media/post/{media.owner_id}/9000000003-x.jpg", b"orphan!", "image/jpeg")
    settings = api.services.settings
    env: dict[str, Any] = {
        "DATABASE_URL": settings.effective_database_url,
        "DATA_DIR": str(settings.data_dir),
        "SECRET_KEY": "test-secret-key",
    }
    if settings.s3_bucket:
        env |= FAKE_AWS_ENV | {"S3_BUCKET": settings.s3_bucket, "S3_ENDPOINT_URL": settings.s3_endpoint_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "commands", "reconcile-media", "--min-age", "0", cwd=ROOT, env=clean_env(**env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().splitlines() == [
        f"objects listed: {len(await stored_keys(api, media)) + 1}",
        f"orphaned objects (no media row): 1 (7 bytes): media/post/{media.owner_id}/9000000003-x.jpg",
        "deleted: 0 (run with --delete to delete the orphans)",
        "too recent to judge (younger than 0 s): 0",
        "ready media rows checked: 1",
        "missing objects (named by a row, not in storage): 0",
    ]
