"""Uploads: issuing pre-signed targets, verifying objects when they are attached, cleanup."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from core.context import RequestContext, Services
from core.errors import BadInput, NotFound
from core.sql import skip_locked
from media import (
    PREFIX_BYTES,
    ImageRejected,
    MediaRules,
    StorageError,
    UploadRejected,
    UploadTarget,
    can_process,
    check_upload,
    object_key,
    process_image_off_loop,
    sniff_content_type,
    variant_key,
)
from models import Media, MediaStatus
from resolvers.loader import RequestLoader, unique
from resolvers.text import clean_line

log = logging.getLogger("ephemera.media")


def rules(services: Services) -> MediaRules:
    settings = services.settings
    return MediaRules(
        max_image_size=settings.media_max_image_bytes, max_video_size=settings.media_max_video_bytes
    )


async def create_upload(
    ctx: RequestContext, content_type: str, byte_size: int, purpose: str, alt_text: str | None = None
) -> tuple[Media, UploadTarget]:
    viewer = ctx.require_viewer()
    services = ctx.services
    content_type = content_type.strip().lower()
    try:
        kind = check_upload(rules(services), content_type, byte_size, purpose)
    except UploadRejected as exc:
        raise BadInput(exc.message) from None
    alt = clean_line(alt_text, field="altText", max_length=1000) if alt_text else None
    media_id = services.ids.next_id()
    key = object_key(purpose, viewer, media_id, content_type)
    # The policy pins the declared size as the upper bound: storage refuses anything larger.
    target = await services.storage.presign_upload(
        key, content_type, byte_size, services.settings.media_upload_expires_seconds
    )
    media = Media(
        id=media_id,
        owner_id=viewer,
        purpose=purpose,
        kind=kind,
        content_type=content_type,
        byte_size=byte_size,
        status=MediaStatus.PENDING,
        storage_key=key,
        alt_text=alt,
        variants=[],
        created_at=services.clock.now(),
    )
    async with services.db.write() as session:
        session.add(media)
    return media, target


async def attach(ctx: RequestContext, media_ids: Sequence[int], purpose: str) -> list[Media]:
    """The viewer's media, verified and READY for `purpose`, in the order asked.

    Someone else's media is NOT_FOUND; media of another purpose, or that fails verification,
    is BAD_USER_INPUT (and is marked FAILED, so it is not checked again).
    """
    viewer = ctx.require_viewer()
    if len(set(media_ids)) != len(media_ids):
        raise BadInput("The same media is attached twice.", field="mediaIds")
    async with ctx.read() as session:
        rows = {m.id: m for m in await session.scalars(select(Media).where(Media.id.in_(unique(media_ids))))}
    found = [rows.get(media_id) for media_id in media_ids]
    owned = [m for m in found if m is not None and m.owner_id == viewer]
    if len(owned) != len(media_ids):
        raise NotFound("Media")
    for media in owned:
        if media.purpose != purpose:
            raise BadInput(f"This media was uploaded for a {media.purpose.lower()}, not a {purpose.lower()}.")
    verified = await asyncio.gather(*(verify(ctx.services, m) for m in owned))
    for media in verified:
        if media.status is not MediaStatus.READY:
            raise BadInput(
                f"The upload could not be used: {media.failure or 'not verified'}.", field="mediaId"
            )
    return list(verified)


async def verify(services: Services, media: Media) -> Media:
    """Check a PENDING upload once: present, within its size, really its type; images get renditions."""
    if media.status is not MediaStatus.PENDING:
        return media
    try:
        failure, values = await _inspect(services, media)
    except StorageError as exc:
        log.warning("storage error verifying media %s: %s", media.id, exc)
        raise BadInput("The upload could not be checked right now; try again.") from None
    status = MediaStatus.FAILED if failure else MediaStatus.READY
    values |= {"status": status, "failure": failure, "verified_at": services.clock.now()}
    async with services.db.write() as session:
        # Whoever verifies first wins; a concurrent verification of the same upload changes nothing.
        await session.execute(
            update(Media).where(Media.id == media.id, Media.status == MediaStatus.PENDING).values(**values)
        )
        current = await session.scalar(select(Media).where(Media.id == media.id))
    return current or media


async def _inspect(services: Services, media: Media) -> tuple[str | None, dict[str, object]]:
    storage = services.storage
    info = await storage.head(media.storage_key)
    if info is None:
        return "the file was never uploaded", {}
    if not 1 <= info.size <= media.byte_size:
        return "the file is not the declared size", {}
    actual = sniff_content_type(await storage.read_prefix(media.storage_key, PREFIX_BYTES))
    if actual != media.content_type:
        return f"the file is not a {media.content_type} file", {}
    if not can_process(media.content_type):
        return None, {"byte_size": info.size}
    try:
        processed = await process_image_off_loop(await storage.get(media.storage_key))
    except ImageRejected as exc:
        return f"the image cannot be read ({exc.reason})", {}
    # The stored original loses its metadata (location privacy): it is replaced by the clean copy.
    await storage.put(media.storage_key, processed.original, processed.original_content_type)
    variants = []
    for variant in processed.variants:
        key = variant_key(media.storage_key, variant.name, variant.content_type)
        await storage.put(key, variant.data, variant.content_type)
        variants.append({"name": variant.name, "width": variant.width, "height": variant.height, "key": key})
    return None, {
        "byte_size": len(processed.original),
        "width": processed.width,
        "height": processed.height,
        "variants": variants,
    }


def object_keys(media: Media) -> list[str]:
    return [media.storage_key, *(str(v["key"]) for v in media.variants)]


async def download_url(services: Services, key: str, not_after: datetime | None = None) -> str:
    """A download URL valid for MEDIA_URL_EXPIRES_SECONDS, and never past `not_after` (a story's
    media must not outlive the story). A CDN's plain URLs are the CDN's to expire."""
    seconds = services.settings.media_url_expires_seconds
    if not_after is not None:
        seconds = max(1, min(seconds, int((not_after - services.clock.now()).total_seconds())))
    return await services.storage.download_url(key, seconds)


class MediaById(RequestLoader[int, Media | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Media | None]:
        async with self.ctx.read() as session:
            return {m.id: m for m in await session.scalars(select(Media).where(Media.id.in_(unique(keys))))}

    def default(self, key: int) -> Media | None:
        return None


async def sweep_abandoned_uploads(services: Services, batch: int = 200) -> int:
    """Delete uploads left PENDING or FAILED past the grace period: objects first, then rows."""
    cutoff = services.clock.now() - timedelta(seconds=services.settings.media_abandoned_after_seconds)
    removed = 0
    while True:
        async with services.db.write() as session:
            stmt = (
                select(Media)
                .where(Media.status.in_([MediaStatus.PENDING, MediaStatus.FAILED]), Media.created_at < cutoff)
                .order_by(Media.created_at)
                .limit(batch)
            )
            stmt = skip_locked(stmt, services.db)
            rows = list(await session.scalars(stmt))
            if not rows:
                return removed
            await services.storage.delete([key for media in rows for key in object_keys(media)])
            await session.execute(delete(Media).where(Media.id.in_([m.id for m in rows])))
            removed += len(rows)
