"""Uploads: issuing pre-signed targets, verifying objects when they are attached, cleanup.

The client's form posts to the media's upload key; verification reads those bytes once, and what
it serves (the cleaned original or the copied video, renditions, poster) goes under fresh keys
only the server writes. Posting the form again later changes nothing that is served.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import tempfile
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, select, update

from core.context import RequestContext, Services
from core.errors import BadInput, NotFound
from core.sql import skip_locked
from core.unit_of_work import unit_of_work
from media import (
    PREFIX_BYTES,
    Limits,
    MediaRejected,
    MediaRules,
    ObjectNotFound,
    ProcessedImage,
    ProcessedVideo,
    StorageError,
    UploadRejected,
    UploadTarget,
    WorkerCrashed,
    WorkerTimeout,
    check_upload,
    is_declared_type,
    process_file,
    served_key,
    upload_key,
)
from media.renditions import Written
from models import Media, MediaStatus
from resolvers.loader import RequestLoader, unique
from resolvers.text import clean_line

log = logging.getLogger("ephemera.media")
T = TypeVar("T")


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
    key = upload_key(purpose, viewer, media_id, content_type)
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
        storage_key=key,  # until verified, the bytes are only at the upload key
        upload_key=key,
        alt_text=alt,
        variants=[],
        created_at=services.clock.now(),
    )
    async with ctx.write() as work:
        work.session.add(media)
    return media, target


async def attach(ctx: RequestContext, media_ids: Sequence[int], purpose: str, field: str) -> list[Media]:
    """The viewer's media, verified and READY for `purpose`, in the order asked.

    Someone else's media is NOT_FOUND; media of another purpose, or that fails verification,
    is BAD_USER_INPUT naming `field`, the input field as the contract spells it (and is marked
    FAILED, so it is not checked again).
    """
    viewer = ctx.require_viewer()
    if len(set(media_ids)) != len(media_ids):
        raise BadInput("The same media is attached twice.", field=field)
    async with ctx.read() as session:
        rows = {m.id: m for m in await session.scalars(select(Media).where(Media.id.in_(unique(media_ids))))}
    found = [rows.get(media_id) for media_id in media_ids]
    owned = [m for m in found if m is not None and m.owner_id == viewer]
    if len(owned) != len(media_ids):
        raise NotFound("Media")
    for media in owned:
        if media.purpose != purpose:
            raise BadInput(
                f"This media was uploaded for {_a(media.purpose.lower())}, not {_a(purpose.lower())}.",
                field=field,
            )
    verified = await asyncio.gather(*(verify(ctx.services, m) for m in owned))
    for media in verified:
        if media.status is not MediaStatus.READY:
            raise BadInput(f"The upload could not be used: {media.failure or 'not verified'}.", field=field)
    return list(verified)


async def verify(services: Services, media: Media) -> Media:
    """Check a PENDING upload once: present, within its size, really its type, decodable.

    Photos get a clean original and renditions, videos a copy of the bytes, a poster and a
    duration, both a placeholder; whatever fails is FAILED with the reason in `failure`.
    """
    if media.status is not MediaStatus.PENDING:
        return media
    written = Written()
    try:
        failure, values = await _inspect(services, media, written)
    except StorageError as exc:
        log.warning("storage error verifying media %s: %s", media.id, exc)
        await _forget(services, written.keys)
        raise BadInput("The upload could not be checked right now; try again.") from None
    status = MediaStatus.FAILED if failure else MediaStatus.READY
    values |= {"status": status, "failure": failure, "verified_at": services.clock.now()}
    async with unit_of_work(services) as work:
        # Whoever verifies first wins; a concurrent verification of the same upload changes nothing.
        result = await work.session.execute(
            update(Media).where(Media.id == media.id, Media.status == MediaStatus.PENDING).values(**values)
        )
        won = bool(getattr(result, "rowcount", 0))
        current = await work.session.scalar(select(Media).where(Media.id == media.id))
        # After commit: the upload has served its purpose; a loser's objects were never recorded.
        work.delete_objects([media.upload_key or media.storage_key] if won else written.keys)
    return current or media


class _Failed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _inspect(services: Services, media: Media, written: Written) -> tuple[str | None, dict[str, Any]]:
    """(None, the row's new values) for a usable upload, else (why not, {})."""
    try:
        return None, await _verified_values(services, media, written)
    except _Failed as failed:
        await _forget(services, written.keys)
        return failed.reason[:255], {}


async def _verified_values(services: Services, media: Media, written: Written) -> dict[str, Any]:
    storage = services.storage
    source = media.upload_key or media.storage_key
    info = await storage.head(source)
    if info is None:
        raise _Failed("the file was never uploaded")
    if not 1 <= info.size <= media.byte_size:
        raise _Failed("the file is not the declared size")
    # Cheap, before moving any bytes; what is decoded below is then judged by the decoders.
    if not is_declared_type(await storage.read_prefix(source, PREFIX_BYTES), media.content_type):
        raise _Failed(f"the file is not {_a(media.content_type)} file")
    version = secrets.token_hex(8)  # fresh keys per verification: nothing served is ever overwritten
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="ephemera-media-"))
    try:
        path = folder / "upload"
        if media.kind == "VIDEO":
            # Copy first, then check the copy: the served bytes are exactly the checked ones.
            source = served_key(media.purpose, media.owner_id, media.id, media.content_type, version)
            written.keys.append(source)
            await _fetch(storage.copy(media.upload_key or media.storage_key, source))
        size = await _fetch(storage.download(source, path))
        if not 1 <= size <= media.byte_size:
            raise _Failed("the file is not the declared size")
        processed = await _process(services, path, media)
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
    if isinstance(processed, ProcessedVideo):
        return {
            "storage_key": source,
            "byte_size": size,
            "width": processed.width,
            "height": processed.height,
            "duration_seconds": processed.duration_seconds,
            "video_codec": processed.codec,
            "poster": await written.poster(storage, source, processed.poster),
            "placeholder": processed.poster.placeholder,
        }
    # The clean copy, never the uploaded bytes: EXIF and GPS stay behind.
    content_type = processed.original_content_type
    key = served_key(media.purpose, media.owner_id, media.id, content_type, version)
    await written.put(storage, key, processed.original, content_type)
    return {
        "storage_key": key,
        "content_type": content_type,
        "byte_size": len(processed.original),
        "width": processed.width,
        "height": processed.height,
        "variants": await written.renditions(storage, key, processed),
        "placeholder": processed.placeholder,
    }


async def _fetch(operation: Awaitable[T]) -> T:
    try:
        return await operation
    except ObjectNotFound:  # deleted between the checks above and now
        raise _Failed("the file was never uploaded") from None


async def _process(services: Services, path: Path, media: Media) -> ProcessedImage | ProcessedVideo:
    settings = services.settings
    limits = Limits(max_video_seconds=settings.media_max_video_seconds)
    noun = "video" if media.kind == "VIDEO" else "image"
    # WorkerUnavailable is left to propagate: the server cannot check uploads now, and the media
    # stays PENDING for a later attach.
    try:
        return await services.media_workers.run(process_file, str(path), media.kind, limits)
    except MediaRejected as exc:
        raise _Failed(exc.reason) from None
    except WorkerTimeout:
        raise _Failed(f"the {noun} took too long to process") from None
    except MemoryError:  # over MEDIA_WORKER_MEMORY_MB: what a sane file of the allowed size never needs
        raise _Failed(f"the {noun} needs too much memory to process") from None
    except WorkerCrashed:
        log.warning("the media worker crashed on media %s", media.id)
        raise _Failed(f"the {noun} could not be processed") from None


async def _forget(services: Services, keys: Sequence[str]) -> None:
    """Best effort: what is left is swept later (`release_spent_uploads`, abandoned uploads)."""
    if not keys:
        return
    try:
        await services.storage.delete(keys)
    except StorageError as exc:
        log.warning("could not delete %d media objects: %s", len(keys), exc)


def object_keys(media: Media) -> list[str]:
    """Every object a media row accounts for: served, renditions, poster, and a leftover upload."""
    keys = [media.storage_key, *(str(v["key"]) for v in media.variants)]
    if media.poster:
        keys += [str(media.poster["key"]), *(str(v["key"]) for v in media.poster["variants"])]
    if media.upload_key and media.upload_key != media.storage_key:
        keys.append(media.upload_key)
    return keys


# URLs signed during one operation, by (key, seconds): inside `one_signature_per_request()` a
# URL signed twice is the same URL, whichever executor asks (S3 signs with the wall clock).
_signed: ContextVar[dict[tuple[str, int], str] | None] = ContextVar("signed_urls", default=None)


@contextmanager
def one_signature_per_request() -> Iterator[None]:
    token = _signed.set({})
    try:
        yield
    finally:
        _signed.reset(token)


async def download_url(services: Services, key: str, not_after: datetime | None = None) -> str:
    """`signed_download_url`, for callers that await."""
    return signed_download_url(services, key, not_after)


def signed_download_url(services: Services, key: str, not_after: datetime | None = None) -> str:
    """A download URL valid for MEDIA_URL_EXPIRES_SECONDS, and never past `not_after` (a story's
    media must not outlive the story). A CDN's plain URLs are the CDN's to expire. Signing is
    computed in place (the store's `signed_url`: no I/O), so both executors call this directly."""
    seconds = services.settings.media_url_expires_seconds
    if not_after is not None:
        seconds = max(1, min(seconds, int((not_after - services.clock.now()).total_seconds())))
    signed = _signed.get()
    if signed is None:
        return services.storage.signed_url(key, seconds)
    url = signed.get((key, seconds))
    if url is None:
        url = signed[key, seconds] = services.storage.signed_url(key, seconds)
    return url


class MediaById(RequestLoader[int, Media | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Media | None]:
        async with self.ctx.read() as session:
            return {m.id: m for m in await session.scalars(select(Media).where(Media.id.in_(unique(keys))))}

    def default(self, key: int) -> Media | None:
        return None


async def sweep_abandoned_uploads(services: Services, batch: int = 200) -> int:
    """Delete uploads left PENDING or FAILED past the grace period: the rows now, the objects after
    the commit (through the outbox). Before that, release the upload objects of media already
    verified (`release_spent_uploads`)."""
    await release_spent_uploads(services, batch)
    cutoff = services.clock.now() - timedelta(seconds=services.settings.media_abandoned_after_seconds)
    removed = 0
    while True:
        async with unit_of_work(services) as work:
            stmt = (
                select(Media)
                .where(Media.status.in_([MediaStatus.PENDING, MediaStatus.FAILED]), Media.created_at < cutoff)
                .order_by(Media.created_at)
                .limit(batch)
            )
            stmt = skip_locked(stmt, services.db)
            rows = list(await work.session.scalars(stmt))
            if not rows:
                return removed
            await work.session.execute(delete(Media).where(Media.id.in_([m.id for m in rows])))
            work.delete_objects(key for media in rows for key in object_keys(media))
            removed += len(rows)


async def release_spent_uploads(services: Services, batch: int = 200) -> int:
    """Delete the upload objects of verified media once their form has expired; how many.

    Verification deletes the upload right away, but a client may post its form again until it
    expires: that object is unused, and removed here. Idempotent, and safe in several processes
    (deleting twice is harmless); no storage call runs inside a transaction.
    """
    expired = services.clock.now() - timedelta(seconds=services.settings.media_upload_expires_seconds)
    released = 0
    while True:
        async with services.db.read() as session:
            rows = (
                await session.execute(
                    select(Media.id, Media.upload_key)
                    .where(
                        Media.upload_key.is_not(None),
                        Media.status != MediaStatus.PENDING,
                        Media.created_at < expired,
                    )
                    .order_by(Media.id)
                    .limit(batch)
                )
            ).all()
        if not rows:
            return released
        await services.storage.delete([str(key) for _, key in rows])
        async with services.db.write() as session:
            await session.execute(
                update(Media).where(Media.id.in_([media_id for media_id, _ in rows])).values(upload_key=None)
            )
        released += len(rows)


def _a(noun: str) -> str:
    """The noun with its indefinite article: "an avatar", "an image/png", "a video/mp4"."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


async def own_media(ctx: RequestContext, media_id: int) -> Media | None:
    """node(id:) for media: only its owner reaches it by id; others see it through the post, story
    or message that shows it."""
    row = await MediaById(ctx).load(media_id)
    return row if row is not None and row.owner_id == ctx.viewer_id else None
