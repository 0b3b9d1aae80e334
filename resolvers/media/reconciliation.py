"""Reconciling object storage with the media table, both ways, a page at a time.

- Objects with no row: storage is listed page by page under the prefixes the app writes
  (`uploads/`, `media/`, and the older `<purpose>/` layout). Every key names its media id at the
  start of its last segment, so each page costs one primary-key query for the rows it could
  belong to; an object none of those rows names (`object_keys`) is an orphan. Objects younger
  than `min_age` are only counted as recent: an upload or a verification may be in flight, its
  row not yet committed. With `delete`, orphans go page by page.
- Rows whose objects are missing: ready media rows, page by page in id order, each object they
  serve (original, renditions, poster) asked for with HEAD, a bounded number at once.

Memory stays one page either way, whatever the size of the bucket. The counts are recorded in
`media_reconciliations`; every server process shows the last ones in /metrics.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from core.context import Services
from core.observability import MEDIA_RECONCILED
from media.policy import PURPOSES
from media.storage import ListedObject
from models import Media, MediaReconciliation, MediaStatus
from resolvers.media.uploads import object_keys
from resolvers.safety.holds import held_keys

log = logging.getLogger("ephemera.reconcile")

PREFIXES = ("uploads/", "media/", *(f"{purpose.lower()}/" for purpose in PURPOSES))
ROWS_PAGE = 500
HEADS_AT_ONCE = 32
SAMPLE = 20
_MEDIA_ID = re.compile(r"^(\d+)")


@dataclass
class Reconciliation:
    objects: int = 0
    orphaned: int = 0
    orphaned_bytes: int = 0
    recent: int = 0
    deleted: int = 0
    rows: int = 0
    missing: int = 0
    orphan_keys: list[str] = field(default_factory=list)  # the first few, for the operator
    missing_media: list[int] = field(default_factory=list)  # likewise: media ids with a missing object


def media_id_of(key: str) -> int | None:
    found = _MEDIA_ID.match(key.rsplit("/", 1)[-1])
    return int(found.group(1)) if found else None


async def reconcile_media(
    services: Services, *, delete: bool = False, min_age_seconds: float = 3600, page_size: int = 1000
) -> Reconciliation:
    report = Reconciliation()
    for prefix in PREFIXES:
        async for page in services.storage.list(prefix, page_size=page_size):
            await _objects_page(services, page, report, delete, min_age_seconds)
    await _rows(services, report)
    await _record(services, report)
    return report


async def _objects_page(
    services: Services, page: Sequence[ListedObject], report: Reconciliation, delete: bool, min_age: float
) -> None:
    ids = {media_id for listed in page if (media_id := media_id_of(listed.key)) is not None}
    async with services.db.read() as session:
        rows = list(await session.scalars(select(Media).where(Media.id.in_(ids)))) if ids else []
        # Objects a report holds as evidence are not orphans, though their media row may be gone.
        held = await held_keys(session, [listed.key for listed in page], services.clock.now())
    known = {key for row in rows for key in object_keys(row)} | held
    settled_before = services.clock.now() - timedelta(seconds=min_age)
    orphans: list[str] = []
    for listed in page:
        report.objects += 1
        if listed.key in known:
            continue
        if listed.modified_at > settled_before:
            report.recent += 1
            continue
        report.orphaned += 1
        report.orphaned_bytes += listed.size
        orphans.append(listed.key)
        if len(report.orphan_keys) < SAMPLE:
            report.orphan_keys.append(listed.key)
    if delete and orphans:
        await services.storage.delete(orphans)
        report.deleted += len(orphans)


async def _rows(services: Services, report: Reconciliation) -> None:
    limit = asyncio.Semaphore(HEADS_AT_ONCE)

    async def exists(key: str) -> bool:
        async with limit:
            return await services.storage.head(key) is not None

    after = 0
    while True:
        stmt = (
            select(Media)
            .where(Media.status == MediaStatus.READY, Media.id > after)
            .order_by(Media.id)
            .limit(ROWS_PAGE)
        )
        async with services.db.read() as session:
            rows = list(await session.scalars(stmt))
        if not rows:
            return
        for row in rows:
            # What the row serves; a leftover upload is released on its own schedule.
            keys = [key for key in object_keys(row) if key == row.storage_key or key != row.upload_key]
            found = await asyncio.gather(*(exists(key) for key in keys))
            lost = found.count(False)
            report.missing += lost
            if lost and len(report.missing_media) < SAMPLE:
                report.missing_media.append(row.id)
        report.rows += len(rows)
        after = rows[-1].id


async def _record(services: Services, report: Reconciliation) -> None:
    async with services.db.write() as session:
        session.add(
            MediaReconciliation(
                id=services.ids.next_id(),
                finished_at=services.clock.now(),
                objects=report.objects,
                orphaned=report.orphaned,
                orphaned_bytes=report.orphaned_bytes,
                recent=report.recent,
                deleted=report.deleted,
                rows=report.rows,
                missing=report.missing,
            )
        )
    log.info(
        "media reconciled: %d objects, %d orphaned, %d deleted, %d rows, %d missing",
        report.objects,
        report.orphaned,
        report.deleted,
        report.rows,
        report.missing,
    )


COUNTS = ("objects", "orphaned", "orphaned_bytes", "recent", "deleted", "rows", "missing")


async def show_last_reconciliation(services: Services) -> int:
    """The periodic job behind /metrics: the counts of the last run, from whichever process ran it."""
    async with services.db.read() as session:
        last = await session.scalar(
            select(MediaReconciliation).order_by(MediaReconciliation.finished_at.desc()).limit(1)
        )
    if last is None:
        return 0
    for name in COUNTS:
        MEDIA_RECONCILED.labels(name).set(getattr(last, name))
    MEDIA_RECONCILED.labels("finished_at_seconds").set(last.finished_at.timestamp())
    return 0
